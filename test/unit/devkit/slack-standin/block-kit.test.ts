import { describe, expect, it } from 'vitest';
import { LIMITS, validateBlocks, validateMessageContent, validateView } from '../../../../devkit/slack-standin/block-kit.js';

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string) => ({ type: 'section', text: mrkdwn(text) });
const button = (over: Record<string, unknown> = {}) => ({ type: 'button', action_id: 'go', text: plain('Go'), ...over });
const actions = (elements: unknown[]) => ({ type: 'actions', elements });
const x = (n: number) => 'x'.repeat(n);

describe('validateBlocks on messages', () => {
  const cases: Array<[string, unknown[], string | undefined]> = [
    ['a plain section', [section('hello')], undefined],
    ['50 blocks', Array.from({ length: 50 }, () => ({ type: 'divider' })), undefined],
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), 'must have no more than 50 items [json-pointer:/blocks]'],
    ['section text of 3000', [section(x(3000))], undefined],
    ['section text of 3001', [section(x(3001))], 'must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    ['section without text or fields', [{ type: 'section' }], 'must provide either text or fields [json-pointer:/blocks/0]'],
    ['empty section text', [section('')], 'must be more than 0 characters [json-pointer:/blocks/0/text/text]'],
    ['11 fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('f')) }], 'must have no more than 10 items [json-pointer:/blocks/0/fields]'],
    ['header of 150', [{ type: 'header', text: plain(x(150)) }], undefined],
    ['header of 151', [{ type: 'header', text: plain(x(151)) }], 'must be less than 151 characters [json-pointer:/blocks/0/text/text]'],
    ['mrkdwn header', [{ type: 'header', text: mrkdwn('hi') }], 'must be one of plain_text [json-pointer:/blocks/0/text/type]'],
    ['button text of 75', [actions([button({ text: plain(x(75)) })])], undefined],
    ['button text of 76', [actions([button({ text: plain(x(76)) })])], 'must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]'],
    ['action_id of 256', [actions([button({ action_id: x(256) })])], 'must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]'],
    ['button value of 2000', [actions([button({ value: x(2000) })])], undefined],
    ['button value of 2001', [actions([button({ value: x(2001) })])], 'must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]'],
    ['button style', [actions([button({ style: 'danger' })])], undefined],
    ['bad button style', [actions([button({ style: 'red' })])], 'must be one of primary, danger [json-pointer:/blocks/0/elements/0/style]'],
    ['25 elements in actions', [actions(Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` })))], undefined],
    ['26 elements in actions', [actions(Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))], 'must have no more than 25 items [json-pointer:/blocks/0/elements]'],
    ['empty actions', [actions([])], 'must have at least 1 item [json-pointer:/blocks/0/elements]'],
    ['unknown block', [{ type: 'carousel' }], 'unsupported block type "carousel" [json-pointer:/blocks/0/type]'],
    ['unknown element', [actions([{ type: 'slider', action_id: 's' }])], 'unsupported element type "slider" [json-pointer:/blocks/0/elements/0/type]'],
    ['duplicate block_id', [{ ...section('a'), block_id: 'b' }, { ...section('b'), block_id: 'b' }], 'duplicate block_id b [json-pointer:/blocks/1/block_id]'],
    ['11 context elements', [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('c')) }], 'must have no more than 10 items [json-pointer:/blocks/0/elements]'],
    ['select with 101 options', [actions([{ type: 'static_select', action_id: 's', options: Array.from({ length: 101 }, (_, i) => ({ text: plain(`o${i}`), value: `${i}` })) }])], 'must have no more than 100 items [json-pointer:/blocks/0/elements/0/options]'],
    ['confirm title of 101', [actions([button({ confirm: { title: plain(x(101)), text: plain('sure?'), confirm: plain('Yes'), deny: plain('No') } })])], 'must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]'],
  ];

  it.each(cases)('%s', (_name, blocks, expected) => {
    const issues = validateBlocks(blocks, 'message').map((i) => `${i.message} [json-pointer:${i.pointer}]`);
    if (expected === undefined) expect(issues).toEqual([]);
    else expect(issues).toContain(expected);
  });

  it('allows 100 blocks in a modal but not in a message', () => {
    const blocks = Array.from({ length: 100 }, () => ({ type: 'divider' }));
    expect(validateBlocks(blocks, 'modal')).toEqual([]);
    expect(validateBlocks(blocks, 'message')).not.toEqual([]);
  });
});

describe('validateMessageContent', () => {
  const many = Array.from({ length: 40 }, () => section(x(400)));
  const cases: Array<[string, Parameters<typeof validateMessageContent>[0], string | undefined]> = [
    ['text only', { text: 'hi' }, undefined],
    ['nothing', {}, 'no_text'],
    ['empty text, no blocks', { text: '' }, 'no_text'],
    ['blocks only', { blocks: [section('hi')] }, undefined],
    ['invalid blocks', { text: 'hi', blocks: [section(x(3001))] }, 'invalid_blocks'],
    ['blocks over ~13k chars of JSON', { text: 'hi', blocks: many }, 'msg_too_long'],
    ['text over 40k', { text: x(LIMITS.messageTextChars + 1) }, 'msg_too_long'],
  ];
  it.each(cases)('%s', (_name, content, expected) => {
    const rejection = validateMessageContent(content);
    expect(rejection?.code).toBe(expected);
    if (rejection?.code === 'invalid_blocks') expect(rejection.messages[0]).toMatch(/^\[ERROR\] .* \[json-pointer:\/blocks\/0\/text\/text\]$/);
  });
});

describe('validateView', () => {
  const modal = (over: Record<string, unknown> = {}) => ({ type: 'modal', title: plain('Approve'), blocks: [section('hi')], ...over });
  const input = { type: 'input', block_id: 'r', label: plain('Reason'), element: { type: 'plain_text_input', action_id: 't' } };
  const cases: Array<[string, unknown, string | undefined]> = [
    ['a minimal modal', modal(), undefined],
    ['title of 24', modal({ title: plain(x(24)) }), undefined],
    ['title of 25', modal({ title: plain(x(25)) }), 'must be less than 25 characters [json-pointer:/view/title/text]'],
    ['submit of 25', modal({ submit: plain(x(25)) }), 'must be less than 25 characters [json-pointer:/view/submit/text]'],
    ['close of 25', modal({ close: plain(x(25)) }), 'must be less than 25 characters [json-pointer:/view/close/text]'],
    ['private_metadata of 3000', modal({ private_metadata: x(3000) }), undefined],
    ['private_metadata of 3001', modal({ private_metadata: x(3001) }), 'must be less than 3001 characters [json-pointer:/view/private_metadata]'],
    ['callback_id of 256', modal({ callback_id: x(256) }), 'must be less than 256 characters [json-pointer:/view/callback_id]'],
    ['101 blocks', modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }), 'must have no more than 100 items [json-pointer:/view/blocks]'],
    ['input without submit', modal({ blocks: [input] }), 'must provide submit when an input block is present [json-pointer:/view/submit]'],
    ['input with submit', modal({ blocks: [input], submit: plain('Go') }), undefined],
    ['not a modal', modal({ type: 'home' }), 'must be modal [json-pointer:/view/type]'],
    ['missing title', { type: 'modal', blocks: [] }, 'must be a text object [json-pointer:/view/title]'],
  ];
  it.each(cases)('%s', (_name, view, expected) => {
    const rejection = validateView(view);
    if (expected === undefined) expect(rejection).toBeUndefined();
    else {
      expect(rejection?.code).toBe('invalid_arguments');
      expect(rejection?.messages).toContain(`[ERROR] ${expected}`);
    }
  });
});
