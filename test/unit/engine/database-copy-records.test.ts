/** The swap's proof, pure: which record of a copy counts (copy-records.ts), and when a record store's directory or file cannot be trusted. */
import { describe, expect, test } from 'vitest';
import { recordedCopyCheck, type CopyRecord } from '../../../src/engine/database/copy-records.js';
import { copyRecordFileName, looseness } from '../../../src/engine/database/copy-record-file.js';

const names = { database: 'app', restoredName: 'app_restored_20250115120000' };
const record = (change: Partial<CopyRecord> = {}): CopyRecord => ({
  copyId: 'job-1', madeBy: 'job job-1 (runner r1)', production: 'aiagent_prod', database: 'app', restoredName: 'app_restored_20250115120000',
  restoredOid: '200', targetText: '2025-01-15 14:29:59+00', verified: true, failedChecks: [], recordedAt: '2025-01-15T12:05:00.000Z', ...change,
});
const check = (records: CopyRecord[], oid = '200') => recordedCopyCheck(records, { restoredOid: oid }, names, 'the control DB');

describe('recordedCopyCheck', () => {
  test.each<[string, CopyRecord[], string, { ok: true; copyId: string } | { ok: false; reason: RegExp }]>([
    ['a verified record of this oid', [record()], '200', { ok: true, copyId: 'job-1' }],
    ['no record at all', [], '200', { ok: false, reason: /^app_restored_20250115120000 is not a copy recover-bot made and verified: there is no record of it in the control DB \(a comment on the database is not proof\); nothing is swapped\.$/ }],
    ['a record of another database under that name', [record({ database: 'other' })], '200', { ok: false, reason: /there is no record of it/ }],
    ['a record of another name', [record({ restoredName: 'app_restored_20250115120001' })], '200', { ok: false, reason: /there is no record of it/ }],
    ['a record of another oid (created again)', [record()], '201', { ok: false, reason: /is of database oid 200, the database now has oid 201 \(it was dropped and created again since\)/ }],
    ['a record of this oid that failed verification', [record({ verified: false, failedChecks: ['amcheck', 'row counts'] })], '200', { ok: false, reason: /FAILED verification \(amcheck, row counts\)/ }],
    ['failed and verified records of this oid: the verified one', [record({ copyId: 'job-2', verified: false }), record()], '200', { ok: true, copyId: 'job-1' }],
    ['a verified record of an older database and a failed one of this', [record({ copyId: 'job-2', restoredOid: '300', verified: false }), record()], '300', { ok: false, reason: /FAILED verification/ }],
    ['verified records of two oids: the one of this oid', [record({ copyId: 'job-2', restoredOid: '300' }), record()], '200', { ok: true, copyId: 'job-1' }],
  ])('%s', (_, records, oid, expected) => {
    const result = check(records, oid);
    if (expected.ok) expect(result).toMatchObject({ ok: true, record: { copyId: expected.copyId } });
    else expect(result).toEqual({ ok: false, reason: expect.stringMatching(expected.reason) });
  });
});

describe('the CLI record store', () => {
  const stats = (uid: number, mode: number, kind: 'directory' | 'file') => ({ uid, mode, isDirectory: () => kind === 'directory', isFile: () => kind === 'file' });
  test.each<[string, ReturnType<typeof stats>, 'directory' | 'file', number | null, string | null]>([
    ['a 0700 directory of ours', stats(0, 0o40700, 'directory'), 'directory', 0, null],
    ['a 0600 file of ours', stats(0, 0o100600, 'file'), 'file', 0, null],
    ['a 0400 file of ours', stats(0, 0o100400, 'file'), 'file', 0, null],
    ['a group-readable directory', stats(0, 0o40750, 'directory'), 'directory', 0, '/s is open to other users (mode 0750, expected 0700)'],
    ['a world-writable file', stats(0, 0o100666, 'file'), 'file', 0, '/s is open to other users (mode 0666, expected 0600)'],
    ['a directory of another user', stats(105, 0o40700, 'directory'), 'directory', 0, '/s belongs to uid 105, not to this process\'s user (uid 0)'],
    ['a symlink or anything else where a file should be', stats(0, 0o120777, 'directory'), 'file', 0, '/s is not a file'],
    ['no uid on this platform: modes only', stats(105, 0o40700, 'directory'), 'directory', null, null],
  ])('%s', (_, stat, kind, uid, expected) => {
    expect(looseness('/s', stat, kind, uid)).toBe(expected);
  });

  test('file names start with the copy\'s name, so a lookup reads one prefix', () => {
    expect(copyRecordFileName('app_restored_20250115120000', 'cli-0123456789abcdef')).toBe('app_restored_20250115120000--cli-0123456789abcdef.json');
  });
});
