/**
 * A dump run's stamp is claimed before anything is uploaded (src/engine/dumps/stamp-claim.ts), on
 * a local-directory store: a second taken by another run's complete dump, or by its claim, is
 * left alone and the next second taken; a database whose directory is free is claimed with
 * `<db>/<stamp>/claim`; claims are given back when any database's directory is taken. (Without
 * it, two dump-backups in one second shared a directory and the loser's clean-up deleted the
 * winner's complete dump: CI caught it in integration/commands/dump-restore.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, test } from 'vitest';
import { claimDumpStamp, claimKey } from '../../../src/engine/dumps/stamp-claim.js';
import { dumpManifestKey, dumpStamp } from '../../../src/engine/dumps/manifest.js';
import { listAll, type Storage } from '../../../src/storage/blob-store.js';
import { LocalDirectoryStore } from '../../../src/storage/local.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const T = Date.parse('2026-12-07T14:02:04.500Z');

async function setUp() {
  const root = await mkdtemp(join(tmpdir(), 'rb-stamp-claim-'));
  dirs.push(root);
  const dumps = new LocalDirectoryStore(root, 'dumps');
  await dumps.ensureContainer();
  const storage = { dumps } as unknown as Storage;
  // The clock stays in one second for the first two reads (the claim's body, the first stamp), then moves on by a second.
  let reads = 0;
  const clock = { now: () => new Date(T + (reads++ >= 2 ? 1000 : 0)) };
  const ctx = { storage, clock, log: pino({ level: 'silent' }), signal: new AbortController().signal };
  return { dumps, ctx };
}

test("a second taken by another run's complete dump is left alone: the next second is claimed, for every database", async () => {
  const { dumps, ctx } = await setUp();
  const first = dumpStamp(new Date(T));
  await dumps.put(dumpManifestKey('shop', first), Buffer.from('{"theirs":true}'));
  await dumps.put(`shop/${first}/files/toc.dat`, Buffer.from('theirs'));
  const { stamp, claims } = await claimDumpStamp(ctx, ['app', 'shop']);
  expect(stamp).toBe(dumpStamp(new Date(T + 1000)));
  expect(claims).toEqual([claimKey('app', stamp), claimKey('shop', stamp)]);
  // Theirs untouched; the claim made on app in the taken second was given back.
  expect((await listAll(dumps, `shop/${first}/`)).map((b) => b.key).sort()).toEqual([`shop/${first}/files/toc.dat`, dumpManifestKey('shop', first)]);
  expect(await listAll(dumps, `app/${first}/`)).toEqual([]);
  expect((await listAll(dumps, `app/${stamp}/`)).map((b) => b.key)).toEqual([claimKey('app', stamp)]);
});

test("a second claimed by a run still uploading is left alone too", async () => {
  const { dumps, ctx } = await setUp();
  const first = dumpStamp(new Date(T));
  await dumps.put(claimKey('app', first), Buffer.from('{"theirs":true}'));
  const { stamp } = await claimDumpStamp(ctx, ['app']);
  expect(stamp).toBe(dumpStamp(new Date(T + 1000)));
  expect((await listAll(dumps, `app/${first}/`)).map((b) => b.key)).toEqual([claimKey('app', first)]);
});
