import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { FastAckReceiver } from '../../../src/slack/io/fast-ack-receiver.js';
import { allReady, controlDbProbe, errorCode, isHealthRequest, startHealthServer, type Readiness } from '../../../src/util/health.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function fails(error: unknown) {
  return { query: () => Promise.reject(error) };
}

describe('which requests are health checks', () => {
  it.each([
    ['GET', '/healthz', true],
    ['HEAD', '/readyz', true],
    ['GET', '/readyz?verbose=1', true],
    ['POST', '/healthz', false],
    ['GET', '/slack/events', false],
    ['GET', '/healthz/x', false],
  ])('%s %s: %s', (method, url, expected) => {
    expect(isHealthRequest(method, url)).toBe(expected);
  });
});

describe('errorCode: what a reason may say about an error', () => {
  it('a Node or SQLSTATE code, else the class name, never the message', () => {
    expect(errorCode(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorCode(Object.assign(new Error('password authentication failed for user "recover"'), { code: '28P01' }))).toBe('28P01');
    expect(errorCode(new Error('timeout exceeded when trying to connect to recover@db'))).toBe('Error');
    expect(errorCode(Object.assign(new Error('x'), { code: 'postgres://u:secret@h/db' }))).toBe('Error');
    expect(errorCode('a string')).toBe('error');
  });
});

describe('controlDbProbe', () => {
  it('ready when SELECT 1 answers; the error code when it fails', async () => {
    expect(await controlDbProbe({ query: async () => ({ rows: [] }) })()).toEqual({ ready: true });
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    expect(await controlDbProbe(fails(refused))()).toEqual({ ready: false, reason: 'control DB unreachable (ECONNREFUSED)' });
  });

  it('not ready after the timeout when the control DB hangs, and one query at a time', async () => {
    let queries = 0;
    let answer: (() => void) | undefined;
    const hung = { query: () => new Promise((resolve) => ((answer = () => resolve({})), queries++)) };
    const probe = controlDbProbe(hung, 20);
    const [first, second] = await Promise.all([probe(), probe()]);
    expect(first).toEqual({ ready: false, reason: 'control DB did not answer within 20 ms' });
    expect(second).toEqual(first);
    expect(await probe()).toEqual(first);
    expect(queries).toBe(1);
    answer!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await probe()).toEqual({ ready: false, reason: 'control DB did not answer within 20 ms' }); // a new, hung query
    expect(queries).toBe(2);
  });
});

describe('allReady', () => {
  it('the first probe that is not ready gives the reason; later ones are not asked', async () => {
    let asked = 0;
    const later = async (): Promise<Readiness> => ((asked += 1), { ready: true });
    expect(await allReady(async () => ({ ready: true }), later)()).toEqual({ ready: true });
    expect(await allReady(async () => ({ ready: false, reason: 'starting' }), later)()).toEqual({ ready: false, reason: 'starting' });
    expect(asked).toBe(1);
  });
});

describe('over HTTP', () => {
  async function get(port: number, path: string, method = 'GET'): Promise<[number, string]> {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return [response.status, await response.text()];
  }

  it('a health-only server: 200 / 503 with JSON, 404 for anything else, a throwing probe is not ready', async () => {
    let state: Readiness = { ready: true };
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', probe: async () => state });
    closers.push(() => server.close());
    expect(await get(server.port, '/healthz')).toEqual([200, '{"status":"ok"}']);
    expect(await get(server.port, '/readyz')).toEqual([200, '{"status":"ready"}']);
    state = { ready: false, reason: 'stopping' };
    expect(await get(server.port, '/readyz')).toEqual([503, '{"status":"not ready","reason":"stopping"}']);
    expect(await get(server.port, '/healthz')).toEqual([200, '{"status":"ok"}']);
    expect((await get(server.port, '/slack/events', 'POST'))[0]).toBe(404);

    const broken = await startHealthServer({ port: 0, host: '127.0.0.1', probe: () => Promise.reject(Object.assign(new Error('secret'), { code: 'EPIPE' })) });
    closers.push(() => broken.close());
    expect(await get(broken.port, '/readyz')).toEqual([503, '{"status":"not ready","reason":"readiness check failed (EPIPE)"}']);
  });

  it('the Slack receiver answers them beside /slack/events: not ready until the bot says how to tell', async () => {
    const receiver = new FastAckReceiver({ signingSecret: 's', log: createLogger('silent') });
    const server: Server = await receiver.start({ port: 0, host: '127.0.0.1' });
    closers.push(() => receiver.stop());
    const { port } = server.address() as AddressInfo;
    expect(await get(port, '/healthz')).toEqual([200, '{"status":"ok"}']);
    expect(await get(port, '/readyz')).toEqual([503, '{"status":"not ready","reason":"starting"}']);
    receiver.serveReadiness(async () => ({ ready: true }));
    expect(await get(port, '/readyz')).toEqual([200, '{"status":"ready"}']);
    // Slack's path still wants a signed POST.
    expect((await get(port, '/slack/events', 'POST'))[0]).toBe(401);
    expect((await get(port, '/slack/events'))[0]).toBe(404);
  });
});
