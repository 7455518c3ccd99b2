/** A deleted WAL segment (a gap) is found before anything runs, with the reachable point named. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/dev/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/engine/context.js';
import { planPitr } from '../../../src/engine/pitr.js';
import { RecoverError } from '../../../src/errors.js';
import { readCatalog } from '../../../src/storage/catalog.js';
import { coverage } from '../../../src/storage/coverage.js';

let sandbox: Sandbox;
const segments: string[] = [];
const times: Date[] = [];
const beforeBatch: Date[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (let batch = 0; batch < 4; batch++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    beforeBatch.push(new Date());
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 100 + 1, $1::int * 100 + 100) g`, [batch]);
    segments.push(await sandbox.switchAndArchive());
    times.push(new Date());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await sandbox.storage.wal.delete(`wal/${segments[1]}`);
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('a target behind the gap is refused, naming the missing segment and the last reachable time', async () => {
  const error = await planPitr(sandbox.context(), { target: { kind: 'time', time: times[2]!, raw: '' } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('WAL_GAP');
  expect((error as RecoverError).message).toContain(segments[1]);
  expect((error as RecoverError).hint).toMatch(/Choose a target before \d{4}-/);
});

test('--latest and xid targets need the whole chain and are refused too', async () => {
  for (const target of [{ kind: 'latest' as const }, { kind: 'xid' as const, xid: '999999' }]) {
    const error = await planPitr(sandbox.context(), { target }).catch((e: unknown) => e);
    expect((error as RecoverError).code).toBe('WAL_GAP');
  }
});

test('a target before the gap is still restorable', async () => {
  // Just before batch 0: the first commit after it is in segments[0], archived before the gap.
  const selection = await planPitr(sandbox.context(), { target: { kind: 'time', time: beforeBatch[0]!, raw: '' } });
  expect(selection.requiredSegments.at(-1)).toBe(segments[0]);
  expect(selection.requiredSegments).not.toContain(segments[1]);
});

test('the catalog reports the gap', async () => {
  const catalog = await readCatalog(sandbox.storage, new Date());
  const [timeline] = coverage(catalog, 16 * 1024 * 1024);
  expect(timeline!.gaps).toEqual([{ from: segments[1], to: segments[1], missing: 1 }]);
});
