/**
 * The recover CLI's record of database copies on its own disk (engine/database/copy-record-file.ts):
 * written whole, 0700 directories and 0600 files; read back only from a directory and files
 * this user alone could have written; a forged or unreadable file does not count.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { fileCopyRecords } from '../../../src/engine/database/copy-record-file.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { rejection } from '../../support/refusal.js';

let root: string;
const log = pino({ level: 'silent' });
const copy = { production: 'aiagent_prod', database: 'app', restoredName: 'app_restored_20250115120000', restoredOid: '16390', targetText: '2025-01-15 14:29:59+00', verified: true, failedChecks: [] };
const mode = async (path: string) => (await stat(path)).mode & 0o777;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-state-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

test('a record written is found again, alone, in a 0700 directory as a 0600 file', async () => {
  const stateDir = join(root, 'var', 'state');
  const records = fileCopyRecords(stateDir, log);
  expect(await records.find({ database: 'app', restoredName: copy.restoredName })).toEqual([]);
  await records.ready();
  const written = await records.record(copy);
  expect(written).toMatchObject({ ...copy, copyId: expect.stringMatching(/^cli-[0-9a-f]{16}$/), madeBy: expect.stringMatching(/^recover CLI on /) });
  const failed = await records.record({ ...copy, restoredName: 'app_restored_20250115130000', verified: false, failedChecks: ['row counts'] });
  expect(await records.find({ database: 'app', restoredName: copy.restoredName })).toEqual([written]);
  expect(await records.find({ database: 'app', restoredName: 'app_restored_20250115130000' })).toEqual([failed]);
  // Another database's copy under that name is not this one's.
  expect(await records.find({ database: 'other', restoredName: copy.restoredName })).toEqual([]);
  const dir = join(stateDir, 'database-copies');
  expect((await readdir(dir)).sort()).toEqual([`${copy.restoredName}--${written.copyId}.json`, `app_restored_20250115130000--${failed.copyId}.json`].sort());
  expect([await mode(stateDir), await mode(dir), await mode(join(dir, `${copy.restoredName}--${written.copyId}.json`))]).toEqual([0o700, 0o700, 0o600]);
});

test('a directory or file others could write is refused, not read', async () => {
  const stateDir = join(root, 'state');
  const records = fileCopyRecords(stateDir, log);
  const written = await records.record(copy);
  const file = join(stateDir, 'database-copies', `${copy.restoredName}--${written.copyId}.json`);
  const find = () => records.find({ database: 'app', restoredName: copy.restoredName });

  await chmod(stateDir, 0o777);
  expect((await rejection(find())).message).toMatch(/cannot be trusted: .*\/state is open to other users \(mode 0777, expected 0700\)/);
  expect((await rejection(records.ready())).code).toBe('CONFIG_INVALID');
  await chmod(stateDir, 0o700);
  await chmod(file, 0o644);
  expect((await rejection(find())).message).toMatch(/--cli-[0-9a-f]{16}\.json is open to other users \(mode 0644, expected 0600\)/);
  await chmod(file, 0o600);
  const postgres = await ownerFor('postgres');
  if (postgres) {
    await chown(file, postgres.uid, postgres.gid);
    expect((await rejection(find())).message).toMatch(new RegExp(`belongs to uid ${postgres.uid}, not to this process's user`));
    await chown(file, process.getuid!(), process.getgid!());
  }
  expect(await find()).toEqual([written]);
});

test('a file that is not a record, or names itself wrongly, does not count', async () => {
  const stateDir = join(root, 'state');
  const records = fileCopyRecords(stateDir, log);
  await records.ready();
  const dir = join(stateDir, 'database-copies');
  const put = (name: string, text: string) => writeFile(join(dir, name), text, { mode: 0o600 });
  await put(`${copy.restoredName}--cli-1.json`, 'not json');
  await put(`${copy.restoredName}--cli-2.json`, JSON.stringify({ ...copy, copyId: 'cli-2', madeBy: 'x', recordedAt: 'x', restoredOid: 'sixteen' }));
  // A valid record under a file name of another copy id (copied from elsewhere).
  await put(`${copy.restoredName}--cli-3.json`, JSON.stringify({ ...copy, copyId: 'cli-4', madeBy: 'x', recordedAt: 'x' }));
  await mkdir(join(dir, `${copy.restoredName}--cli-5.json`), { mode: 0o700 });
  await expect(records.find({ database: 'app', restoredName: copy.restoredName })).rejects.toThrow(/cli-5\.json is not a file/);
  await rm(join(dir, `${copy.restoredName}--cli-5.json`), { recursive: true });
  expect(await records.find({ database: 'app', restoredName: copy.restoredName })).toEqual([]);
});
