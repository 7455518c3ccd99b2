/** Reading how replay ended from PostgreSQL's log and pg_waldump's words (pure). */
import { describe, expect, test } from 'vitest';
import { invalidRecordInLog, replayEndInLog } from '../../../src/engine/recovery-log.js';
import { isSqlError } from '../../../src/engine/recovery.js';
import { waldumpFailure } from '../../../src/engine/wal-end.js';
import { parseLsn } from '../../../src/catalog/segments.js';

const log = (text: string) => `2026-12-06 20:03:20.123 UTC [4711] LOG:  ${text}`;

describe('invalidRecordInLog: the record replay could not read', () => {
  const cases: [string, string, { segment: string | null; lsn: string | null }][] = [
    ['a garbage prev-link names the record last', 'record with incorrect prev-link A5A5A5A5/A5A5A5A5 at 0/5000128', { segment: null, lsn: '0/5000128' }],
    ['a zeroed page header names the segment', 'invalid magic number 0000 in log segment 000000010000000000000003, offset 0', { segment: '000000010000000000000003', lsn: null }],
    ['PostgreSQL 16 says WAL segment', 'invalid magic number 0000 in WAL segment 000000010000000000000003, LSN 0/3000000, offset 0', { segment: '000000010000000000000003', lsn: null }],
    ['a record of zeros', 'invalid record length at 0/3000060: wanted 24, got 0', { segment: null, lsn: '0/3000060' }],
    ['a damaged record body', 'incorrect resource manager data checksum in record at 0/3001368', { segment: null, lsn: '0/3001368' }],
    ['a bad resource manager', 'invalid resource manager ID 165 at 1/A0000E8', { segment: null, lsn: '1/A0000E8' }],
  ];
  test.each(cases)('%s', (_, text, expected) => {
    const found = invalidRecordInLog([log('starting point-in-time recovery'), log(text), log('redo done at 0/50000E8 system usage: CPU: user: 0.00 s')]);
    expect(found?.reason).toBe(text);
    expect(found?.segment).toBe(expected.segment);
    expect(found?.lsn).toBe(expected.lsn === null ? null : parseLsn(expected.lsn));
  });

  test('nothing unreadable logged (the archive simply ended): undefined', () => {
    expect(invalidRecordInLog([log('redo done at 0/50000E8'), '2026-12-06 20:03:20.123 UTC [4711] FATAL:  recovery ended before configured recovery target was reached'])).toBeUndefined();
  });

  test('the last one logged wins', () => {
    expect(invalidRecordInLog([log('invalid record length at 0/3000060: wanted 24, got 0'), log('invalid record length at 0/4000060: wanted 24, got 0')])?.lsn).toBe(parseLsn('0/4000060'));
  });
});

test('replayEndInLog: where redo ended and the last transaction replayed', () => {
  expect(replayEndInLog([log('redo done at 0/50000E8 system usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.02 s'), log('last completed transaction was at log time 2026-12-06 20:03:13.059221+00')])).toEqual({
    redoDoneAt: '0/50000E8',
    lastTransaction: '2026-12-06 20:03:13.059221+00',
  });
  expect(replayEndInLog([log('database system is ready to accept read-only connections')])).toEqual({ redoDoneAt: null, lastTransaction: null });
});

describe('isSqlError: only errors the server sent', () => {
  const cases: [string, unknown, boolean][] = [
    // A write to the socket of a server that has shut down: its code looks like a SQLSTATE.
    ['EPIPE from the socket', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }), false],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }), false],
    ['connection terminated', new Error('Connection terminated unexpectedly'), false],
    ['an SQL error', Object.assign(new Error('relation "x" does not exist'), { severity: 'ERROR', code: '42P01' }), true],
    ['admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { severity: 'FATAL', code: '57P01' }), false],
    ['connection failure class', Object.assign(new Error('connection failure'), { severity: 'FATAL', code: '08006' }), false],
    ['nothing', undefined, false],
  ];
  test.each(cases)('%s', (_, error, expected) => expect(isSqlError(error)).toBe(expected));
});

describe('waldumpFailure: pg_waldump read a segment to its end, or why not', () => {
  test('exit 0: read to the end', () => expect(waldumpFailure({ exitCode: 0, stderr: '' })).toBeNull());
  test('an invalid record: its words, without the program prefix', () => {
    expect(waldumpFailure({ exitCode: 1, stderr: 'pg_waldump: error: error in WAL record at 0/3000B68: incorrect resource manager data checksum in record at 0/3000BA8\n' })).toBe(
      'error in WAL record at 0/3000B68: incorrect resource manager data checksum in record at 0/3000BA8',
    );
  });
  test('a zeroed first page', () => {
    expect(waldumpFailure({ exitCode: 1, stderr: 'pg_waldump: error: WAL segment size must be a power of two between 1 MB and 1 GB, but the WAL file "000000010000000000000003" header specifies 0 bytes\n' })).toMatch(/header specifies 0 bytes/);
  });
});
