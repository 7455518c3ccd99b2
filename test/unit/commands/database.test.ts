/** /recover database: the words of both forms, refusals that say what to write, and the pure plans. */
import { describe, expect, test } from 'vitest';
import { database } from '../../../commands/database.js';
import { parseDatabase, unusedNames } from '../../../commands/database-args.js';
import { databaseSummary } from '../../../commands/database-view.js';
import type { RestoreSelection } from '../../../src/catalog/select-restore.js';
import type { DatabaseFacts } from '../../../src/engine/database/sql.js';
import { refusal } from '../../support/refusal.js';

describe('words', () => {
  test.each([
    [['app', '--at', '2025-01-15T14:29:59+00:00'], { db: 'app', target: { kind: 'time', time: '2025-01-15T14:29:59Z' }, inclusive: true, swap: null, jobs: 4, instance: null }],
    [['app', '2025-01-15', '14:29:59+01:00', '--jobs', '8'], { target: { kind: 'time', time: '2025-01-15T14:29:59+01:00' }, jobs: 8 }],
    [['app', '--before-xid', '73519'], { target: { kind: 'xid', xid: '73519' }, inclusive: false }],
    [['app', '--swap', 'app_restored_20250115143502'], { target: null, swap: 'app_restored_20250115143502' }],
  ])('%j', (tokens, expected) => {
    expect(parseDatabase(tokens)).toMatchObject(expected);
  });

  test.each([
    [['--at', '2025-01-15T14:29:59+00:00'], /Name the database/],
    [['app'], /--at <time with offset> or --before-xid N/],
    [['app', '--at', '2025-01-15T14:29:59'], /has no time zone/],
    [['app', '--before-xid', '2'], /not a transaction ID/],
    [['app', '--before-xid', '9', '--at', '2025-01-15T14:29:59+00:00'], /cannot be combined with a time/],
    [['app', '--swap', 'other_restored_20250115143502'], /--swap takes the copy \/recover database app made: app_restored_<stamp>/],
    [['app', '--swap', 'app_restored_20250115143502', '--at', '2025-01-15T14:29:59+00:00'], /takes no --at/],
    [['app;drop', '--at', '2025-01-15T14:29:59+00:00'], /database: a database name/],
    [['a'.repeat(40), '--at', '2025-01-15T14:29:59+00:00'], /up to 39 \(the copy's name adds _restored_<stamp>\)/],
    [['app', '--at', '2025-01-15T14:29:59+00:00', '--jobs', '0'], /--jobs/],
    [['app', '--at', '2025-01-15T14:29:59+00:00', '--jobs', '1e1'], /--jobs/],
    [['app', '--at', '2025-01-15T14:29:59+00:00', '--to', 'side'], /Unknown option --to/],
  ])('%j is refused', (tokens, message) => {
    expect(refusal(() => parseDatabase(tokens)).message).toMatch(message);
  });

  test('risk and confirmation: the copy is a side copy, the swap is destructive and typed', () => {
    const copy = parseDatabase(['app', '--at', '2025-01-15T14:29:59+00:00']);
    const swap = parseDatabase(['app', '--swap', 'app_restored_20250115143502']);
    expect([database.risk(copy), database.confirmation(copy, { production: { name: 'prod' } })]).toEqual(['side-copy', null]);
    expect([database.risk(swap), database.confirmation(swap, { production: { name: 'prod' } })]).toEqual(['destructive', 'prod']);
  });
});

const now = new Date('2025-01-15T14:35:02.123Z');
const base = { now, production: { name: 'aiagent_prod' }, requestId: 'Req-1234abcd-zz' };
const selection = { backup: { id: '20250115T120000Z', files: [{ name: 'base/part-00001.tar.zst', bytes: 8_000_000, sha256: 'x' }], startLsn: '0/3000028', walSegmentSize: 16_777_216 }, requiredSegments: ['000000010000000000000003', '000000010000000000000004'], walBytes: 33_554_432 } as unknown as RestoreSelection;
const facts = (oid: string, comment: string | null = null): DatabaseFacts => ({ oid, owner: 'app_owner', encoding: 'UTF8', collate: 'C', ctype: 'C', provider: 'c', icuLocale: null, allowConnections: true, bytes: 12_345_678, comment });

describe('plans', () => {
  test('copy: a new database named after the plan time, nothing destructive, the swap as follow-up', () => {
    const plan = database.plan!(parseDatabase(['app', '--before-xid', '777', '--jobs', '3']), { ...base, productionDatabases: ['app', 'postgres'], original: facts('16384'), selection, instancesInUse: [] });
    expect(plan.risk).toBe('side-copy');
    expect(plan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'dump', 'create-database', 'restore-dump', 'verify', 'remove-instance']);
    expect(plan.steps.every((s) => !s.destructive)).toBe(true);
    expect(plan.params).toEqual({ form: 'copy', backupId: '20250115T120000Z', target: { kind: 'xid', xid: '777' }, inclusive: false, targetText: 'just before transaction 777 (its changes not replayed)', instanceName: 'database-20250115T143502Z-req1234a', database: 'app', newName: 'app_restored_20250115143502', jobs: 3 });
    expect(plan.facts.Then).toBe('/recover database app --swap app_restored_20250115143502');
    expect(plan.facts['Writes on production']).toMatch(/a NEW database app_restored_20250115143502 .* no existing database is changed/);
  });

  test('copy: a name already on production (a copy made in the same second) is never reused: _2, _3 …', () => {
    const plan = database.plan!(parseDatabase(['app', '--at', '2025-01-15T14:29:59+00:00']), { ...base, productionDatabases: ['app', 'app_restored_20250115143502', 'app_restored_20250115143502_2'], original: facts('1'), selection, instancesInUse: [] });
    expect(plan.params).toMatchObject({ newName: 'app_restored_20250115143502_3' });
    expect(plan.facts.Then).toBe('/recover database app --swap app_restored_20250115143502_3');
  });

  test('copy: no free name within 63 bytes is refused', () => {
    const db = 'd'.repeat(39);
    const taken = [db, `${db}_restored_20250115143502`];
    const error = refusal(() => database.plan!(parseDatabase([db, '--at', '2025-01-15T14:29:59+00:00']), { ...base, database: db, productionDatabases: taken, original: facts('1'), selection, instancesInUse: [] } as never));
    expect(error.code).toBe('INSTANCE_EXISTS');
    expect(error.message).toContain("longer than PostgreSQL's 63 bytes");
  });

  test.each([
    [['a_restored_1', 'a_before_1'], [], ['a_restored_1', 'a_before_1']],
    [['a_restored_1', 'a_before_1'], ['a_before_1'], ['a_restored_1_2', 'a_before_1_2']],
    [['a_restored_1', 'a_before_1'], ['a_restored_1', 'a_restored_1_2', 'a_before_1_3'], ['a_restored_1_4', 'a_before_1_4']],
  ])('unusedNames(%j) with %j taken → %j (one suffix for all)', (names, taken, expected) => {
    expect(unusedNames(names, taken)).toEqual(expected);
  });

  const swapArgs = parseDatabase(['app', '--swap', 'app_restored_20250115120000']);
  const marker = 'recover-bot: verified copy of app at 2025-01-15 14:29:59+00';
  const record = { copyId: '6f1c1b0e-4a8e-4c1e-9d6e-0b7a1c2d3e4f', madeBy: 'job 6f1c… (runner r1)', production: 'aiagent_prod', database: 'app', restoredName: 'app_restored_20250115120000', restoredOid: '200', targetText: '2025-01-15 14:29:59+00', verified: true, failedChecks: [], recordedAt: '2025-01-15T12:05:00.000Z' };
  const swapFacts = { ...base, productionDatabases: ['app', 'app_restored_20250115120000'], original: facts('100'), restored: facts('200', marker), copyRecords: [record], copyRecordsWhere: 'the control DB (runner pool default)' };

  test('swap: bound to both oids and the copy\'s record, the old database kept under a new name', () => {
    const plan = database.plan!(swapArgs, swapFacts);
    expect(plan.risk).toBe('destructive');
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-swap', false], ['swap', true]]);
    expect(plan.params).toEqual({ form: 'swap', database: 'app', restoredName: 'app_restored_20250115120000', beforeName: 'app_before_20250115143502', databaseOid: '100', restoredOid: '200', copyId: record.copyId });
    expect(plan.facts['Current database']).toMatch(/renamed app_before_20250115143502 and kept, never dropped/);
    expect(plan.facts['Restored copy']).toBe('app_restored_20250115120000 (12.3 MB): app at 2025-01-15 14:29:59+00, made and verified by job 6f1c… (runner r1) at 2025-01-15T12:05:00.000Z');
    // The comment plays no part: the same record without it swaps the same.
    expect(database.plan!(swapArgs, { ...swapFacts, restored: facts('200', null) }).params).toEqual(plan.params);
  });

  test.each([
    ['the copy is missing', { restored: null }, /app_restored_20250115120000 does not exist on production/],
    ['the original is gone', { original: null }, /Database app does not exist on production/],
  ])('swap refused when %s', (_, change, message) => {
    const error = refusal(() => database.plan!(swapArgs, { ...swapFacts, ...change }));
    expect(error.message).toMatch(message);
  });

  test('the name for the old one taken (a swap in the same second): the next free one, never a refusal that hides the real check', () => {
    const taken = ['app', 'app_restored_20250115120000', 'app_before_20250115143502', 'app_before_20250115143502_2'];
    expect(database.plan!(swapArgs, { ...swapFacts, productionDatabases: taken }).params).toMatchObject({ beforeName: 'app_before_20250115143502_3' });
    // An unrecorded copy is refused for what it is, whatever names are taken.
    expect(refusal(() => database.plan!(swapArgs, { ...swapFacts, productionDatabases: taken, copyRecords: [] })).code).toBe('COPY_UNVERIFIED');
  });

  test.each([
    ['only the comment says so (no record)', { copyRecords: [] }, /is not a copy recover-bot made and verified: there is no record of it in the control DB \(runner pool default\) \(a comment on the database is not proof\)/],
    ['no record and no comment either', { copyRecords: [], restored: facts('200', null) }, /there is no record of it/],
    ['the record is of another oid (dropped and created again)', { restored: facts('201', marker) }, /the record \(job 6f1c… \(runner r1\), 2025-01-15T12:05:00\.000Z\) is of database oid 200, the database now has oid 201 \(it was dropped and created again since\)/],
    ['the copy failed verification', { copyRecords: [{ ...record, verified: false, failedChecks: ['row counts app_restored_20250115120000'] }] }, /FAILED verification \(row counts app_restored_20250115120000\); an unverified copy is never swapped in/],
    ['the record is of a copy of another database', { copyRecords: [{ ...record, database: 'application' }] }, /there is no record of it/],
  ])('swap refused (COPY_UNVERIFIED, exit 3) when %s', (_, change, message) => {
    const error = refusal(() => database.plan!(swapArgs, { ...swapFacts, ...change }));
    expect([error.code, error.message]).toEqual(['COPY_UNVERIFIED', expect.stringMatching(message)]);
    expect(error.hint).toBe('Make a verified copy first: /recover database app --at <time with offset>; it records the copy, then swap in the name it reports.');
  });

  test('summary: the follow-up swap of a verified copy, the old name after a swap', () => {
    const params = { targetText: '2025-01-15 14:29:59+00', target: { kind: 'time', time: '2025-01-15T14:29:59Z' } };
    expect(databaseSummary(params, { form: 'copy', copied: { newName: 'app_restored_1', swapCommand: '/recover database app --swap app_restored_1' } }).followUps).toEqual(['Check app_restored_1, then swap it in: /recover database app --swap app_restored_1 (typed confirmation and approval).']);
    expect(databaseSummary({}, { form: 'swap', swapped: { database: 'app', beforeName: 'app_before_2' } })).toEqual({ target: null, to: null, recovery: null, followUps: ['The old database is kept as app_before_2; drop it once nobody needs it.'], sideInstanceHandled: true });
  });
});
