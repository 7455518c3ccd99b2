import { Writable } from 'node:stream';
import { describe, expect, it, test } from 'vitest';
import { createLogger, redactText } from '../../src/log.js';

describe('redactText', () => {
  it.each([
    [
      'an Azure connection string',
      'DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=c2VjcmV0a2V5+/==;EndpointSuffix=core.windows.net',
      'DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=***;EndpointSuffix=core.windows.net',
    ],
    ['a lowercase accountkey', 'accountkey=abc', 'accountkey=***'],
    [
      'a SAS URL',
      'GET https://prod.blob.core.windows.net/wal/x?sv=2022-11-02&se=2025-01-16&sig=AbC%2Fdef%3D&sp=r failed',
      'GET https://prod.blob.core.windows.net/wal/x?sv=2022-11-02&se=2025-01-16&sig=***&sp=r failed',
    ],
    [
      'a SAS connection string',
      'BlobEndpoint=https://x/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=abc%3D;Other=1',
      'BlobEndpoint=https://x/;SharedAccessSignature=***&ss=b&sig=***;Other=1',
    ],
    ['a postgres URL', 'connect postgres://app:hunter2@db.internal:5432/app failed', 'connect postgres://app:***@db.internal:5432/app failed'],
    ['a postgresql URL', 'postgresql://u:p%40ss@h/db', 'postgresql://u:***@h/db'],
    ['a postgres URL without a password', 'postgres://app@db/app', 'postgres://app@db/app'],
    ['a bot token', 'token xoxb-1234-5678-AbCdEf rejected', 'token xoxb-*** rejected'],
    ['a user token', 'xoxp-1-2-3', 'xoxp-***'],
    ['an Azure Resource Manager bearer token', 'authorization: Bearer eyJ0eXAiOiJKV1Qi.eyJhdWQi.c2ln-_ rejected', 'authorization: Bearer *** rejected'],
    ['nothing secret', 'segment 000000010000000000000003 archived', 'segment 000000010000000000000003 archived'],
  ])('masks %s', (_name, text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it('masks several secrets in one text', () => {
    expect(redactText('a postgres://u:pw@h/d b AccountKey=k; c sig=s d xoxb-9')).toBe('a postgres://u:***@h/d b AccountKey=***; c sig=*** d xoxb-***');
  });

  // BUG: Slack app-level tokens (xapp-…, used for Socket Mode; devkit/slack-standin supports them)
  // are not masked: the pattern only knows xoxa/xoxb/xoxp/xoxr.
  test('masks an app-level token', () => {
    expect(redactText('xapp-1-A0123-456-abcdef')).toBe('xapp-***');
  });
});

function collect() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('censors secret keys at the top level and one level down', () => {
    const { lines, stream } = collect();
    const log = createLogger('info', stream);
    log.info(
      {
        password: 'hunter2',
        connectionString: 'AccountKey=abc',
        token: 'xoxb-1',
        slack: { token: 'xoxb-2', channel: 'C1' },
        azure: { connectionString: 'x', accountKey: 'k', account: 'prod' },
        source: { url: 'postgres://u:p@h/d', PGPASSWORD: 'p' },
        segment: '000000010000000000000003',
      },
      'connected',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'connected',
      password: '***',
      connectionString: '***',
      token: '***',
      slack: { token: '***', channel: 'C1' },
      azure: { connectionString: '***', accountKey: '***', account: 'prod' },
      source: { url: '***', PGPASSWORD: '***' },
      segment: '000000010000000000000003',
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/hunter2|xoxb-[12]|abc/);
  });

  it('masks secrets inside message strings and format arguments', () => {
    const { lines, stream } = collect();
    const log = createLogger('info', stream);
    log.info('cannot reach postgres://app:hunter2@db/app');
    log.warn({ step: 'fetch' }, 'blob %s failed', 'https://a.blob.core.windows.net/c/x?sig=SECRET&sp=r');
    expect(lines.map((line) => line.msg)).toEqual(['cannot reach postgres://app:***@db/app', 'blob https://a.blob.core.windows.net/c/x?sig=***&sp=r failed']);
  });

  it('respects the level', () => {
    const { lines, stream } = collect();
    const log = createLogger('warn', stream);
    log.info('hidden');
    log.debug('hidden');
    log.error('shown');
    expect(lines.map((line) => [line.level, line.msg])).toEqual([[50, 'shown']]);
  });

  // BUG: REDACT_PATHS knows `token` but not the Slack config's own keys `botToken` and
  // `appToken` (Config.slack), so logging the Slack config prints both tokens.
  test('censors the Slack config token keys', () => {
    const { lines, stream } = collect();
    createLogger('info', stream).info({ slack: { botToken: 'xoxb-1-2-3', appToken: 'xapp-1-2-3', socketMode: true } }, 'slack');
    expect(lines[0]).toMatchObject({ slack: { botToken: '***', appToken: '***', socketMode: true } });
  });

  // BUG: the logMethod hook only masks string arguments; an Error logged as { err } (as
  // fetcher.ts, agent.ts and pitr.ts do) keeps a connection string or SAS URL from its
  // message and stack in clear, although redactText exists for "a connection string quoted
  // in an error".
  test('masks secrets in a logged error', () => {
    const { lines, stream } = collect();
    createLogger('info', stream).error({ err: new Error('cannot open postgres://app:hunter2@db/app') }, 'failed');
    expect(JSON.stringify(lines[0])).not.toContain('hunter2');
  });
});
