/** Which control-DB failures are retried while it restarts, the backoff between tries, and the retry loop. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransientDbError, retryTransient } from '../../../src/control/retry.js';
import { RecoverError } from '../../../src/errors.js';

const log = pino({ level: 'silent' });
const withCode = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(code), { code, ...extra });

describe('isTransientDbError', () => {
  it.each([
    ['57P01 administrator command (pg_ctl restart -m fast)', withCode('57P01'), true],
    ['57P02 crash shutdown', withCode('57P02'), true],
    ['57P03 the database system is starting up', withCode('57P03'), true],
    ['08006 connection failure', withCode('08006'), true],
    ['53300 too many connections', withCode('53300'), true],
    ['40001 serialization failure', withCode('40001'), true],
    ['40P01 deadlock', withCode('40P01'), true],
    ['ECONNREFUSED', withCode('ECONNREFUSED'), true],
    ['ECONNRESET', withCode('ECONNRESET'), true],
    ['ENOENT on connect (the Unix socket is gone while it restarts)', withCode('ENOENT', { syscall: 'connect' }), true],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly'), true],
    ['pg: Client has encountered a connection error and is not queryable', new Error('Client has encountered a connection error and is not queryable'), true],
    ['pg-pool: timeout exceeded when trying to connect', new Error('timeout exceeded when trying to connect'), true],
    ['wrapped in a cause', new Error('outer', { cause: withCode('57P01') }), true],
    ['AggregateError of refused addresses', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), {}), true],
    ['ENOENT reading a file', withCode('ENOENT', { syscall: 'open' }), false],
    ['23505 unique violation', withCode('23505'), false],
    ['42601 syntax error', withCode('42601'), false],
    ['57014 statement cancelled', withCode('57014'), false],
    ['LEASE_LOST', new RecoverError('LEASE_LOST', 'not yours'), false],
    ['a RecoverError caused by a reset', new RecoverError('INTERNAL', 'x', { cause: withCode('ECONNRESET') }), false],
    ['a string', 'Connection terminated', false],
    ['null', null, false],
  ])('%s → %s', (_name, error, transient) => {
    expect(isTransientDbError(error)).toBe(transient);
  });
});

describe('backoffDelay', () => {
  const backoff = { baseMs: 100, maxMs: 2000 };
  it.each([
    [0, 0, 50],
    [0, 1, 100],
    [1, 1, 200],
    [3, 0.5, 600],
    [4, 1, 1600],
    [5, 1, 2000],
    [50, 0, 1000],
    [-1, 1, 100],
  ])('attempt %i, random %f → %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, backoff, () => random)).toBe(expected);
  });
});

describe('retryTransient', () => {
  const fast = { baseMs: 1, maxMs: 2 };

  it('tries again after transient failures and returns the result', async () => {
    let calls = 0;
    const result = await retryTransient(async () => {
      calls += 1;
      if (calls < 4) throw withCode('57P01');
      return 'done';
    }, { what: 'test', log, backoff: fast });
    expect([result, calls]).toEqual(['done', 4]);
  });

  it('throws a final error at once', async () => {
    let calls = 0;
    await expect(retryTransient(async () => {
      calls += 1;
      throw new RecoverError('LEASE_LOST', 'gone');
    }, { what: 'test', log, backoff: fast })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(calls).toBe(1);
  });

  it('gives up when the signal aborts, or after giveUpAfterMs, with the last error', async () => {
    const stop = new AbortController();
    let calls = 0;
    await expect(retryTransient(async () => {
      if (++calls === 3) stop.abort();
      throw withCode('ECONNREFUSED');
    }, { what: 'test', log, backoff: fast, signal: stop.signal })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(calls).toBe(3);
    await expect(retryTransient(async () => {
      throw withCode('57P03');
    }, { what: 'test', log, backoff: fast, giveUpAfterMs: 0 })).rejects.toMatchObject({ code: '57P03' });
  });
});
