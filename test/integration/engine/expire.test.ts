/**
 * Retention on a storage with several backups and timelines (issue 19 item 6), through
 * `recover expire` with the local storage driver: well-formed manifests and parts, WAL of three
 * timelines with their .history files, a .partial and a .backup file, an interrupted upload, one
 * still uploading and an unreadable manifest. --dry-run deletes nothing; expire deletes exactly
 * what no kept backup needs and records it in the control DB's audit log. A refused delete (an
 * Azure immutability policy) stops it with the storage's message, backups first and WAL last.
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backupManifestSchema, manifestKey } from '../../../src/catalog/catalog.js';
import { formatLsn, historyFileName, segmentName } from '../../../src/catalog/segments.js';
import { listAudit } from '../../../src/control/audit.js';
import { expireBackups } from '../../../src/engine/retention/expire.js';
import { createLogger } from '../../../src/log.js';
import { listAll, type BlobStore, type Storage } from '../../../src/storage/blob-store.js';
import { storageFailure } from '../../../src/storage/errors.js';
import { LocalDirectoryStore } from '../../../src/storage/local.js';
import { runCli } from '../../support/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

const SEG = 16 * 1024 * 1024;
const DAY = 86_400_000;
let root: string;
let storage: Storage;
let control: TestDatabase;
const log = createLogger('silent');

const lsn = (segno: number, offset: number) => formatLsn(BigInt(segno) * BigInt(SEG) + BigInt(offset));
const ago = (days: number) => new Date(Date.now() - days * DAY);

/** A format 2 backup (manifest and two parts) on `timeline`, starting in segment `startSeg`, stopped `daysAgo` days ago. */
async function putBackup(id: string, timeline: number, startSeg: number, daysAgo: number): Promise<void> {
  const files = [1, 2].map((n) => ({ name: `base/part-0000${n}.tar.zst`, bytes: 5, sha256: 'a'.repeat(64), rawBytes: 10, codec: 'zstd' as const }));
  for (const file of files) await storage.backups.put(`${storage.backupPrefix}${id}/${file.name}`, Buffer.from('parts'));
  const manifest = backupManifestSchema.parse({
    formatVersion: 2, id, startLsn: lsn(startSeg, 0x200), stopLsn: lsn(startSeg + 1, 0x100), startTime: ago(daysAgo + 0.01).toISOString(), stopTime: ago(daysAgo).toISOString(),
    timeline, systemIdentifier: '7312345678901234567', serverVersion: '15.8', serverVersionNum: 150008, walSegmentSize: SEG, nextXidAtStart: '1000', databaseBytes: 100, files,
  });
  await storage.backups.put(manifestKey(storage.backupPrefix, id), Buffer.from(JSON.stringify(manifest)));
}

const walNames = (timeline: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => segmentName(timeline, BigInt(from + i)));
const history = (entries: [number, number][]) => entries.map(([parent, segno]) => `${parent}\t${lsn(segno, 0x100)}\tno recovery target specified`).join('\n');

/**
 * Timeline 1: segments 1..20, backups A (segment 2, 10 days ago) and B (10, 8 days ago).
 * Timeline 2 branched from 1 in segment 15: 15..30, backup C (22, 4 days ago).
 * Timeline 3 branched from 2 in segment 26: 26..35, backup D (32, 1 day ago).
 */
async function fill(): Promise<void> {
  await putBackup('A', 1, 2, 10);
  await putBackup('B', 1, 10, 8);
  await putBackup('C', 2, 22, 4);
  await putBackup('D', 3, 32, 1);
  // Interrupted 9 days ago (before C began: goes), one uploading now (stays), one whose manifest cannot be read (stays).
  await storage.backups.put(`${storage.backupPrefix}Z/base/part-00001.tar.zst`, Buffer.from('x'));
  await utimes(join(root, 'postgresql-full', 'daily', 'Z', 'base', 'part-00001.tar.zst'), ago(9), ago(9));
  await storage.backups.put(`${storage.backupPrefix}uploading/base/part-00001.tar.zst`, Buffer.from('x'));
  await storage.backups.put(`${storage.backupPrefix}broken/manifest.json`, Buffer.from('{"formatVersion": 9'));
  const wal = [...walNames(1, 1, 20), ...walNames(2, 15, 30), ...walNames(3, 26, 35), `${segmentName(1, 15n)}.partial`, `${segmentName(1, 2n)}.00000200.backup`, 'README.txt'];
  for (const name of wal) await storage.wal.put(`${storage.walPrefix}${name}`, Buffer.from('wal'));
  await storage.wal.put(`${storage.walPrefix}${historyFileName(2)}`, Buffer.from(history([[1, 15]])));
  await storage.wal.put(`${storage.walPrefix}${historyFileName(3)}`, Buffer.from(history([[1, 15], [2, 26]])));
}

const listing = async () => ({
  backups: (await listAll(storage.backups, storage.backupPrefix)).map((b) => b.key.slice(storage.backupPrefix.length)),
  wal: (await listAll(storage.wal, storage.walPrefix)).map((b) => b.key.slice(storage.walPrefix.length)),
});

const env = () => ({ RECOVER_STORAGE_DRIVER: 'local', RECOVER_STORAGE_LOCAL_DIR: root, RECOVER_RETENTION_FULL: '2', RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${control.name}`, LOG_LEVEL: 'silent' });

beforeAll(async () => {
  control = await createTestDatabase();
});
afterAll(async () => {
  await control?.drop();
});
beforeEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = await mkdtemp(join(tmpdir(), 'rb-expire-'));
  const store = (container: string) => new LocalDirectoryStore(root, container);
  storage = { backups: store('postgresql-full'), wal: store('postgresql-wal-archive'), dumps: store('postgresql-dumps'), backupPrefix: 'daily/', walPrefix: 'wal/' };
  await fill();
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('recover expire (the newest 2 backups kept)', () => {
  it('--dry-run says what would go and why, and deletes nothing', async () => {
    const before = await listing();
    const run = await runCli(['expire', '--dry-run'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Dry run: nothing was deleted.');
    expect(run.stdout).toContain('  A  expires at the next run: not one of the newest 2');
    expect(run.stdout).toContain('  C  kept: one of the newest 2');
    expect(run.stdout).toContain('  D  kept: newest backup; one of the newest 2');
    expect(run.stdout).toContain('  Z  deleted at the next run: interrupted upload (no manifest)');
    expect(run.stdout).toContain('  uploading  kept: written after the oldest kept backup began (may still be uploading)');
    expect(run.stdout).toContain('  broken  kept: its manifest cannot be read');
    expect(run.stdout).toContain(`  WAL kept: timeline 2 ${segmentName(2, 22n)} … ${segmentName(2, 30n)} (9 files)`);
    expect(run.stdout).toContain(`  WAL expires at the next run: timeline 1 ${segmentName(1, 1n)} … ${segmentName(1, 20n)} (22 files)`);
    expect(await listing()).toEqual(before);
    expect(await listAudit(control.pool, { subject: 'pool:default' })).toEqual([]);
  });

  it('deletes exactly what no kept backup needs, and records it in the audit log', async () => {
    const run = await runCli(['expire', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const result = (JSON.parse(run.stdout) as { result: { deleted: { backups: string[]; incomplete: string[]; walFiles: string[] } } }).result;
    expect(result.deleted.backups).toEqual(['A', 'B']);
    expect(result.deleted.incomplete).toEqual(['Z']);
    const after = await listing();
    expect(after.backups.sort()).toEqual(['C/base/part-00001.tar.zst', 'C/base/part-00002.tar.zst', 'C/manifest.json', 'D/base/part-00001.tar.zst', 'D/base/part-00002.tar.zst', 'D/manifest.json', 'broken/manifest.json', 'uploading/base/part-00001.tar.zst']);
    expect(after.wal.sort()).toEqual([...walNames(2, 22, 30), ...walNames(3, 26, 35), historyFileName(2), historyFileName(3), 'README.txt'].sort());
    const [entry] = await listAudit(control.pool, { subject: 'pool:default' });
    expect(entry).toMatchObject({ action: 'backups.expired', details: { backupsDeleted: ['A', 'B'], incompleteDeleted: ['Z'], walFilesDeleted: 29, backupsKept: ['C', 'D'] } });
    // Again: nothing more to do.
    const again = await runCli(['expire'], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Deleted 0 base backup(s), 0 interrupted upload(s) and 0 WAL file(s)');
    expect(await listing()).toEqual(after);
  });

  it('keeping the newest 3 keeps timeline 1 from B on, and the descendants whole', async () => {
    const run = await runCli(['expire', '--json'], { ...env(), RECOVER_RETENTION_FULL: '3' });
    expect(run.code, run.stderr).toBe(0);
    expect((await listing()).wal.filter((name) => name.startsWith('00000001'))).toEqual([...walNames(1, 10, 15), `${segmentName(1, 15n)}.partial`, ...walNames(1, 16, 20)]);
  });

  it('refuses without a policy (exit 2), naming the settings', async () => {
    const run = await runCli(['expire'], { ...env(), RECOVER_RETENTION_FULL: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CONFIG_INVALID.*RECOVER_RETENTION_FULL and RECOVER_RETENTION_DAYS are both unset/s);
  });
});

describe('recover backups: what retention keeps', () => {
  it('per backup, kept and why or expiring, the WAL window, and the next scheduled backup', async () => {
    const run = await runCli(['backups'], { ...env(), RECOVER_BACKUP_SCHEDULE: '0 2 * * *' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Retention: keep the newest 2 backups');
    expect(run.stdout).toContain('  B  expires at the next run: not one of the newest 2');
    expect(run.stdout).toContain('  C  kept: one of the newest 2');
    expect(run.stdout).toContain(`  WAL kept: timeline 3 ${segmentName(3, 26n)} … ${segmentName(3, 35n)} (10 files)`);
    expect(run.stdout).toMatch(/Scheduled backups: 0 2 \* \* \* \(UTC\), next \d{4}-\d\d-\d\dT02:00:00\.000Z/);
    const json = await runCli(['backups', '--json'], env());
    const report = (JSON.parse(json.stdout) as { result: { retention: { backups: { id: string; keep: boolean }[] }; schedule: unknown } }).result;
    expect(report.retention.backups.map((b) => [b.id, b.keep])).toEqual([['A', false], ['B', false], ['C', true], ['D', true]]);
    expect(report.schedule).toBeNull();
  });
});

describe('a delete the storage refuses (an Azure immutability policy on the WAL container)', () => {
  it('stops there with the storage message and its hint: backups went first, their manifests before their parts', async () => {
    const deletes: string[] = [];
    const refusing = (inner: BlobStore, refuse: (key: string) => boolean): BlobStore => Object.assign(Object.create(inner) as BlobStore, {
      async delete(key: string) {
        if (refuse(key)) throw storageFailure('Azure storage account acct, container postgresql-wal-archive', 'delete', key, Object.assign(new Error('This operation is not permitted as the blob is immutable due to a policy.'), { statusCode: 409, code: 'BlobImmutableDueToPolicy' }));
        deletes.push(key);
        await inner.delete(key);
      },
    });
    const guarded: Storage = { ...storage, backups: refusing(storage.backups, () => false), wal: refusing(storage.wal, () => true) };
    const result = await expireBackups({ storage: guarded, log, clock: { now: () => new Date() }, signal: new AbortController().signal }, { full: 2 }, { dryRun: false });
    expect(result.failure?.code).toBe('STORAGE_ERROR');
    expect(result.failure?.message).toContain(`refused to delete wal/${segmentName(1, 1n)}`);
    expect(result.failure?.message).toContain('an immutability policy or legal hold protects it (HTTP 409 BlobImmutableDueToPolicy)');
    expect(result.failure?.message).toContain('Deleted before that: 2 backup(s), 1 interrupted upload(s), 0 WAL file(s).');
    expect(result.failure?.hint).toContain('set the immutability period shorter than the backup retention');
    expect(deletes.slice(0, 2)).toEqual(['daily/A/manifest.json', 'daily/A/base/part-00001.tar.zst']);
    expect(deletes.indexOf('daily/B/manifest.json')).toBeGreaterThan(deletes.indexOf('daily/A/base/part-00002.tar.zst'));
    expect((await listing()).wal).toContain(segmentName(1, 1n));
  });
});
