/**
 * database/place.ts against a real server: a recorded, verified copy is renamed to `<db>` when
 * `<db>` is absent; a `<db>` that appeared since planning, a copy without a record, a copy
 * re-created under its name, and an approval withdrawn at the last moment each leave every
 * database exactly as it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { fileCopyRecords } from '../../../src/engine/database/copy-record-file.js';
import type { CopyRecords } from '../../../src/engine/database/copy-records.js';
import { placeDatabase } from '../../../src/engine/database/place.js';
import { RecoverError } from '../../../src/errors.js';

let sandbox: Sandbox;
let stateDir: string;
let copies: CopyRecords;
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, db = 'postgres') => sandbox.query<T>(text, [], db);
const names = async () => (await q<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'ledger%' ORDER BY 1`)).map((row) => row.datname);
const oidOf = async (db: string) => (await q<{ oid: string }>(`SELECT oid::text AS oid FROM pg_database WHERE datname = '${db}'`))[0]!.oid;

/** A copy database with rows, recorded as made and verified (as the failback job records it). */
async function recordedCopy(name: string, database: string) {
  await q(`CREATE DATABASE ${name}`);
  await q(`CREATE TABLE entries (id int PRIMARY KEY); INSERT INTO entries SELECT generate_series(1, 100)`, name);
  const restoredOid = await oidOf(name);
  const record = await copies.record({ production: 'aiagent_prod', database, restoredName: name, restoredOid, targetText: 'a test copy', verified: true, failedChecks: [] });
  return { restoredOid, copyId: record.copyId };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  stateDir = await mkdtemp(join(tmpdir(), 'rb-place-state-'));
  copies = fileCopyRecords(stateDir, pino({ level: 'silent' }));
  await copies.ready();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
  await rm(stateDir, { recursive: true, force: true });
});

test('a recorded, verified copy becomes <db> when there is none; the approval is checked right before the rename', async () => {
  const copy = await recordedCopy('ledger_restored_1', 'ledger');
  const steps: string[] = [];
  const placed = await placeDatabase(sandbox.context(), sandbox.config, { database: 'ledger', restoredName: 'ledger_restored_1', ...copy, copies, beforeDestructiveStep: async (step) => void steps.push(step) });
  expect(placed).toMatchObject({ database: 'ledger', restoredName: 'ledger_restored_1' });
  expect(steps).toEqual(['swap']);
  expect(await names()).toEqual(['ledger']);
  expect(await oidOf('ledger')).toBe(copy.restoredOid);
  expect(await q('SELECT count(*)::int AS n FROM entries', 'ledger')).toEqual([{ n: 100 }]);
  await q('DROP DATABASE ledger');
}, 60_000);

test.each([
  ['<db> appeared since planning', async () => void (await q('CREATE DATABASE ledger')), 'COMMAND_FAILED', /ledger exists now .* Nothing was renamed; ledger_restored_2 is kept/],
  ['the approval is withdrawn at the last moment', async () => undefined, 'CANCELLED', /withdrawn/],
])('%s: nothing renamed', async (name, meanwhile, code, message) => {
  const copy = await recordedCopy('ledger_restored_2', 'ledger');
  await meanwhile();
  const before = await names();
  const refuse = name.includes('approval') ? async () => { throw new RecoverError('CANCELLED', 'the approval was withdrawn'); } : async () => undefined;
  const error = await placeDatabase(sandbox.context(), sandbox.config, { database: 'ledger', restoredName: 'ledger_restored_2', ...copy, copies, beforeDestructiveStep: refuse }).then(() => null, (e: unknown) => e as RecoverError);
  expect(error?.code).toBe(code);
  expect(error?.message).toMatch(message);
  expect(await names()).toEqual(before);
  for (const db of before) await q(`DROP DATABASE ${db}`);
}, 60_000);

test('a copy without a record, or re-created under its name since, is refused: nothing renamed', async () => {
  await q('CREATE DATABASE ledger_restored_3');
  const unrecorded = await placeDatabase(sandbox.context(), sandbox.config, { database: 'ledger', restoredName: 'ledger_restored_3', restoredOid: await oidOf('ledger_restored_3'), copyId: 'none', copies, beforeDestructiveStep: async () => undefined }).then(() => null, (e: unknown) => e as RecoverError);
  expect(unrecorded?.code).toBe('COPY_UNVERIFIED');
  await q('DROP DATABASE ledger_restored_3');

  const copy = await recordedCopy('ledger_restored_4', 'ledger');
  await q('DROP DATABASE ledger_restored_4');
  await q('CREATE DATABASE ledger_restored_4');
  const recreated = await placeDatabase(sandbox.context(), sandbox.config, { database: 'ledger', restoredName: 'ledger_restored_4', ...copy, copies, beforeDestructiveStep: async () => undefined }).then(() => null, (e: unknown) => e as RecoverError);
  expect(recreated?.code).toBe('COMMAND_FAILED');
  expect(recreated?.message).toMatch(/not the database this job restored and verified/);
  expect(await names()).toEqual(['ledger_restored_4']);
}, 60_000);

test.each([
  ['postgres', 'ledger_restored_5'],
  ['template1', 'ledger_restored_5'],
  ['ledger', 'template0'],
])('never a system database or a template on either side (%s ← %s): refused before anything is read or renamed', async (database, restoredName) => {
  const before = await q<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1');
  const error = await placeDatabase(sandbox.context(), sandbox.config, { database, restoredName, restoredOid: '1', copyId: 'none', copies, beforeDestructiveStep: async () => undefined }).then(() => null, (e: unknown) => e as RecoverError);
  expect(error?.code).toBe('TARGET_NOT_ALLOWED');
  expect(await q<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1')).toEqual(before);
}, 60_000);
