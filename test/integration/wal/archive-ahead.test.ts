/** Archiving ahead: segments already marked .ready are uploaded before the archiver asks for them. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { listAll, type Storage } from '../../../src/storage/blob-store.js';
import { LocalDirectoryStore } from '../../../src/storage/local.js';
import { ArchiveAhead } from '../../../src/wal/archive-ahead.js';
import { segmentName } from '../../../src/catalog/segments.js';

let dir: string;
let storage: Storage;
const names = [1n, 2n, 3n, 4n].map((segno) => segmentName(1, segno));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-ahead-'));
  const root = join(dir, 'store');
  storage = { backups: new LocalDirectoryStore(root, 'b'), wal: new LocalDirectoryStore(root, 'w'), dumps: new LocalDirectoryStore(root, 'd'), backupPrefix: 'daily/', walPrefix: 'wal/' };
  await mkdir(join(dir, 'pg_wal', 'archive_status'), { recursive: true });
  for (const name of names) {
    await writeFile(join(dir, 'pg_wal', name), randomBytes(4096));
    await writeFile(join(dir, 'pg_wal', 'archive_status', `${name}.ready`), '');
  }
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('archiving the first ready segment starts the others; asking for them later joins those uploads', async () => {
  const ahead = new ArchiveAhead(storage, pino({ level: 'silent' }), 2);
  expect(await ahead.push(join(dir, 'pg_wal', names[0]!), names[0]!)).toBe('uploaded');
  // Two more (the parallel limit) were started without being asked for. Wait for those
  // uploads themselves (not for a time): on a loaded machine they may take any while.
  await ahead.settled();
  expect(ahead.startedAhead).toEqual(names.slice(1, 3));
  expect((await listAll(storage.wal, 'wal/')).map((blob) => blob.key).sort()).toEqual(names.slice(0, 3).map((name) => `wal/${name}`));
  expect(await ahead.push(join(dir, 'pg_wal', names[1]!), names[1]!)).toBe('uploaded');
  // That push looked ahead again and started the last one; once it is stored, asking joins it.
  await ahead.settled();
  expect(ahead.startedAhead).toContain(names[3]);
  expect(await ahead.push(join(dir, 'pg_wal', names[3]!), names[3]!)).toBe('uploaded');
  expect(await ahead.push(join(dir, 'pg_wal', names[2]!), names[2]!)).toBe('uploaded');
  expect((await listAll(storage.wal, 'wal/')).length).toBe(4);
});

test('a push outside a pg_wal layout still archives, without looking ahead', async () => {
  const loose = join(dir, names[0]!);
  await writeFile(loose, randomBytes(1024));
  const ahead = new ArchiveAhead(storage, pino({ level: 'silent' }));
  expect(await ahead.push(loose, names[0]!)).toBe('uploaded');
  expect((await listAll(storage.wal, 'wal/')).length).toBe(1);
});
