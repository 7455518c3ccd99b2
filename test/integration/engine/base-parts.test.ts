/**
 * Base backups in parts (manifest formatVersion 2), with each codec (zstd and lz4): a backup
 * cut into many small parts restores row-exact through PITR, with the directory permissions PostgreSQL needs, though
 * parts are extracted in parallel and a directory's entry may come after its files; and a
 * formatVersion 1 backup (one base.tar.gz) still restores.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { restoreBaseBackup } from '../../../src/engine/restore-base.js';
import { pgBasebackupArgs } from '../../../src/engine/pg-args.js';
import { makeOwnedDir, stopCluster } from '../../../src/engine/local-cluster.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import type { BackupManifest } from '../../../src/catalog/catalog.js';
import type { Config } from '../../../src/config.js';
import { osUserIds } from '../../../src/engine/os-user.js';

let sandbox: Sandbox;
let config: Config;
let manifest: BackupManifest;
const manifests: Record<'zstd' | 'lz4', BackupManifest> = {} as never;
const MiB = 1024 * 1024;
const rowsHash = `SELECT count(*)::int AS n, md5(string_agg(id::text || ':' || payload, ',' ORDER BY id)) AS hash FROM items`;

beforeAll(async () => {
  sandbox = await startSandbox();
  config = { ...sandbox.config, pg: { ...sandbox.config.pg, baseTransfer: { partBytes: 1 * MiB, parallel: 3 } } };
  await sandbox.query(`CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)`);
  await sandbox.query(`INSERT INTO items SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 30000) g`);
  for (const codec of ['lz4', 'zstd'] as const) {
    const tools = { ...config.pg, baseTransfer: { ...config.pg.baseTransfer!, codec } };
    manifests[codec] = await takeBaseBackup(sandbox.context(), tools, parseConnectionUrl(sandbox.productionUrl));
    await sandbox.query(`UPDATE items SET payload = 'between the backups' WHERE id % 11 = 0`);
  }
  manifest = manifests.lz4;
  await sandbox.query(`UPDATE items SET payload = 'after the backup' WHERE id % 7 = 0`);
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test.each(['zstd', 'lz4'] as const)('%s: the manifest lists parts in order with their codec, each within the target size unless one file is larger', async (codec) => {
  const manifest = manifests[codec];
  expect(manifest.formatVersion).toBe(2);
  expect(manifest.files.length).toBeGreaterThan(5);
  const suffix = codec === 'zstd' ? 'zst' : 'lz4';
  expect(manifest.files.map((f) => f.name)).toEqual(manifest.files.map((_f, i) => `base/part-${String(i + 1).padStart(5, '0')}.tar.${suffix}`));
  for (const file of manifest.files) {
    expect(file.codec).toBe(codec);
    const blob = await sandbox.storage.backups.head(`daily/${manifest.id}/${file.name}`);
    expect(blob?.size).toBe(file.bytes);
    expect(file.rawBytes).toBeGreaterThan(0);
    expect(file.bytes).toBeLessThan(file.rawBytes!); // both codecs shrink table pages
  }
  expect(manifest.files.filter((f) => f.rawBytes! > 1 * MiB).every((f) => f.rawBytes! <= 1 * MiB + 1 * 1024 ** 3)).toBe(true);
});

// Both extractors: bsdtar (unpacks zstd and LZ4 itself) and GNU tar (runs the zstd / lz4 CLI).
test.each([
  ['zstd', 'bsdtar'],
  ['zstd', 'gnu'],
  ['lz4', 'bsdtar'],
  ['lz4', 'gnu'],
] as const)('%s parts, extracted by %s: PITR is row-exact, and every directory is 0700 and owned by postgres', async (codec, tar) => {
  const expected = (await sandbox.query<{ n: number; hash: string }>(rowsHash))[0]!;
  const tools = { ...config, pg: { ...config.pg, tar } };
  const result = await runPitr(sandbox.context(), tools, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: `parts-${codec}-${tar}`, backupId: manifests[codec].id });
  try {
    expect(result.state).toBe('promoted');
    expect(result.backupId).toBe(manifests[codec].id);
    const pg = (await import('pg')).default;
    const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      expect((await client.query(rowsHash)).rows[0]).toEqual(expected);
    } finally {
      await client.end();
    }
    const postgres = await osUserIds('postgres');
    const walk = async (dir: string): Promise<void> => {
      const info = await stat(dir);
      expect({ dir, mode: (info.mode & 0o777).toString(8), uid: info.uid }).toEqual({ dir, mode: '700', uid: postgres.uid });
      for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await walk(join(dir, entry.name));
    };
    await walk(result.dataDir);
    // Files keep the owner-only mode pg_basebackup gave them.
    expect(((await stat(join(result.dataDir, 'PG_VERSION'))).mode & 0o777).toString(8)).toBe('600');
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
});

test.each(['bsdtar', 'gnu'] as const)('a formatVersion 1 backup (one base.tar.gz) still restores (%s)', async (tar) => {
  const id = `${manifest.id}-v1-${tar}`;
  const [file, args] = pgBasebackupArgs(sandbox.config.pg.bin, { ...parseConnectionUrl(sandbox.productionUrl) }, 'v1', 'gzip');
  const child = sandbox.exec.spawn(file, args, { stdoutStream: true });
  const hash = createHash('sha256');
  let bytes = 0;
  const measured = new PassThrough();
  child.stdout!.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  child.stdout!.pipe(measured);
  await Promise.all([child, sandbox.storage.backups.put(`daily/${id}/base.tar.gz`, measured)]);
  const v1: BackupManifest = { ...manifest, formatVersion: 1, id, files: [{ name: 'base.tar.gz', bytes, sha256: hash.digest('hex') }] };
  const dataDir = join(sandbox.root, `v1-restore-${tar}`);
  await makeOwnedDir(dataDir, await osUserIds('postgres'));
  const restored = await restoreBaseBackup(sandbox.context(), { ...sandbox.config.pg, tar }, v1, dataDir);
  expect(restored.bytes).toBe(bytes);
  expect((await readFile(join(dataDir, 'PG_VERSION'), 'utf8')).trim()).toBe('15');
  expect((await stat(join(dataDir, 'backup_label'))).isFile()).toBe(true);
});
