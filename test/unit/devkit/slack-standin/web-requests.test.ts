import { describe, expect, it } from 'vitest';
import { parseComposer, webRequest } from '../../../../devkit/slack-standin/web/requests.js';

const JSON_TYPE = 'application/json';

describe('webRequest', () => {
  const cases: Array<[string, string, string, unknown, unknown]> = [
    ['a command', 'command', JSON_TYPE, { user: 'U1', channel: 'C1', line: '/recover help' }, { ok: true, request: { kind: 'command', user: 'U1', channel: 'C1', line: '/recover help' } }],
    ['a click in a message', 'click', JSON_TYPE, { user: 'U1', actionId: 'go', channel: 'C1', messageTs: '1.2' }, { ok: true, request: { kind: 'click', user: 'U1', actionId: 'go', channel: 'C1', messageTs: '1.2' } }],
    ['a click in a modal, with a value', 'click', JSON_TYPE, { user: 'U1', actionId: 'go', value: 'r', viewId: 'V1' }, { ok: true, request: { kind: 'click', user: 'U1', actionId: 'go', value: 'r', viewId: 'V1' } }],
    ['a click that names no place', 'click', JSON_TYPE, { user: 'U1', actionId: 'go', channel: 'C1' }, { ok: false, status: 400, error: 'click: a click needs viewId, or channel and messageTs' }],
    ['a submit', 'submit', JSON_TYPE, { user: 'U1', viewId: 'V1', values: { b: { a: 'x', m: ['1', '2'] } } }, { ok: true, request: { kind: 'submit', user: 'U1', viewId: 'V1', values: { b: { a: 'x', m: ['1', '2'] } } } }],
    ['a submit without values', 'submit', JSON_TYPE, { user: 'U1', viewId: 'V1' }, { ok: true, request: { kind: 'submit', user: 'U1', viewId: 'V1', values: {} } }],
    ['a close', 'close', `${JSON_TYPE}; charset=utf-8`, { user: 'U1', viewId: 'V1' }, { ok: true, request: { kind: 'close', user: 'U1', viewId: 'V1' } }],
    ['an unknown action', 'delete', JSON_TYPE, {}, { ok: false, status: 404, error: 'no web action delete' }],
    ['a form post (what a cross-site form can send)', 'command', 'application/x-www-form-urlencoded', 'user=U1', { ok: false, status: 415, error: 'send JSON (content-type: application/json)' }],
    ['a missing field', 'command', JSON_TYPE, { user: 'U1', line: '/recover' }, { ok: false, status: 400, error: expect.stringContaining('channel:') }],
    ['a value of the wrong type', 'submit', JSON_TYPE, { user: 'U1', viewId: 'V1', values: { b: { a: 1 } } }, { ok: false, status: 400, error: expect.stringContaining('values.b.a') }],
  ];
  it.each(cases)('%s', (_, name, type, body, expected) => {
    expect(webRequest(name, type, typeof body === 'string' ? body : JSON.stringify(body))).toEqual(expected);
  });

  it('refuses a body that is not JSON', () => {
    expect(webRequest('command', JSON_TYPE, '{nope')).toEqual({ ok: false, status: 400, error: 'the body is not JSON' });
  });
});

describe('parseComposer', () => {
  const cases: Array<[string, { command: string; text: string }]> = [
    ['/recover help', { command: '/recover', text: 'help' }],
    ['  /Recover   pitr 2025-01-15 14:29:59+00 --db x  ', { command: '/recover', text: 'pitr 2025-01-15 14:29:59+00 --db x' }],
    ['/recover', { command: '/recover', text: '' }],
    ['/recover pitr\nsecond line', { command: '/recover', text: 'pitr\nsecond line' }],
  ];
  it.each(cases)('%j', (line, parsed) => expect(parseComposer(line)).toEqual(parsed));

  it.each(['hello there', 'recover help', '/ help', ''])('refuses %j: only slash commands reach the bot', (line) => {
    expect(() => parseComposer(line)).toThrow(/type a slash command/);
  });
});
