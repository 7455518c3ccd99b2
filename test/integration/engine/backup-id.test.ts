/**
 * A base backup's directory is claimed before anything is uploaded (src/engine/backup-id.ts), on
 * a local-directory store: two backups in one second get `<id>` and `<id>-2`, a directory another
 * process has only claimed (nothing uploaded yet) is not shared, one with anything in it is
 * skipped, and the claim goes once the backup is complete.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, test } from 'vitest';
import { releaseBackupId, unusedBackupId } from '../../../src/engine/backup-id.js';
import type { EngineContext } from '../../../src/engine/context.js';
import { listAll, type Storage } from '../../../src/storage/blob-store.js';
import { LocalDirectoryStore } from '../../../src/storage/local.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

test('same-second backups never share a directory: claimed, skipped when claimed or used, released when done', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rb-backup-id-'));
  dirs.push(root);
  const backups = new LocalDirectoryStore(root, 'backups');
  await backups.ensureContainer();
  const storage = { backups, backupPrefix: 'daily/' } as unknown as Storage;
  const ctx = { storage, clock: { now: () => new Date('2026-12-07T14:20:00Z') }, log: pino({ level: 'silent' }), signal: new AbortController().signal } as unknown as EngineContext;
  const base = '20261207T142000Z';
  expect(await unusedBackupId(ctx, base)).toBe(base);
  // The first one has uploaded nothing yet: only its claim marks the directory as taken.
  expect((await listAll(backups, 'daily/')).map((b) => b.key)).toEqual([`daily/${base}/claim`]);
  expect(await unusedBackupId(ctx, base)).toBe(`${base}-2`);
  await backups.put(`daily/${base}-3/part-0001.tar.zst`, Buffer.from('an interrupted upload of another kind'));
  expect(await unusedBackupId(ctx, base)).toBe(`${base}-4`);
  await releaseBackupId(ctx, base);
  expect(await listAll(backups, `daily/${base}/`)).toEqual([]);
});
