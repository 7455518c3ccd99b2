/**
 * `recover disk` against a real full disk: production's pg_wal on a 32 MiB tmpfs (initdb
 * --waldir, 1 MiB segments), archiving failing because storage (Azurite) is stopped, the
 * application writing until PostgreSQL PANICs on "No space left on device" (it then stops or
 * crash-loops: either is handled). Through the real CLI:
 * - the report, server down: what fills pg_wal, the waiting segments, storage unreachable;
 * - storage still down: `disk --fix` refused, exit 3, not one file of pg_wal changed;
 * - storage back: `disk --fix` archives the backlog itself, removes only archived WAL older
 *   than REDO, starts production: it accepts writes, every committed row is there, archiving
 *   resumed, and a PITR to the end of WAL from the base backup has exactly production's rows;
 * - an inactive slot holding WAL: reported and kept by --fix (refused, exit 3), dropped only
 *   with --drop-slot NAME confirmed with its name.
 * One sandbox; the tmpfs is unmounted in cleanup even on failure.
 */
import { execa } from 'execa';
import { chmod, chown, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../devkit/azurite.js';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { disk } from '../../commands/disk/index.js';
import { routePlan } from '../../src/runner/routing.js';
import type { EngineEvent } from '../../src/types.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { postmasterOn } from '../../src/engine/in-place-recovery.js';
import { clusterClient, stopCluster, withClient } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { runPitr } from '../../src/engine/pitr.js';
import { tableHashSql } from '../../src/engine/sql.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { runCli } from '../support/run-cli.js';
import { until } from '../support/until.js';

let sandbox: Sandbox;
let walMount: string;
let env: Record<string, string>;
let azurite: AzuriteHandle | null = null;
let sideDataDir: string | null = null;
/** Rows of every INSERT that returned success before the PANIC. */
let committed = 0;

const ROWS_PER_BATCH = 2000;

beforeAll(async () => {
  walMount = await mkdtemp(join(tmpdir(), 'rb-diskwal-'));
  await chmod(walMount, 0o755);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0755', 'tmpfs', walMount]);
  const owner = await ownerFor('postgres');
  if (owner) await chown(walMount, owner.uid, owner.gid);
  sandbox = await startSandbox({
    productionInitdb: ['--waldir', join(walMount, 'pg_wal'), '--wal-segsize', '1'],
    // Checkpoints every few MiB, so unarchived segments pile up older than REDO (what --fix can free once archived).
    productionSettings: { max_wal_size: '8MB', min_wal_size: '2MB', logging_collector: 'on', autovacuum: 'off' },
  });
  env = sandbox.cliEnv({ RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir, RECOVER_STORAGE_RETRIES: '1', RECOVER_RECOVERY_TIMEOUT_S: '120' });
  await sandbox.query('CREATE TABLE t (id bigint PRIMARY KEY, pad text NOT NULL)');
  await sandbox.query(`INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, $1::int) g`, [ROWS_PER_BATCH]);
  committed = ROWS_PER_BATCH;
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.switchAndArchive();
  await sandbox.query('CHECKPOINT');

  // Storage goes away; the application keeps writing until PostgreSQL PANICs for lack of space.
  await sandbox.azurite.stop();
  const client = clusterClient(sandbox.production);
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (let batch = 1; batch < 200; batch++) {
      await client.query(`INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series($1::int, $2::int) g`, [batch * ROWS_PER_BATCH + 1, (batch + 1) * ROWS_PER_BATCH]);
      committed += ROWS_PER_BATCH;
    }
  } catch {
    // the PANIC: this batch is not committed
  } finally {
    await client.end().catch(() => undefined);
  }
  // Stopped, or a postmaster that no longer answers (crash-looping / hung in crash recovery): both count.
  // (A restart can also find just enough room and run again, on a pg_wal still nearly full.)
  await until('production to be down after the PANIC', async () => {
    if (!(await postmasterOn(sandbox.production.dataDir))) return true;
    return withClient(sandbox.production, 'postgres', async (c) => c.query('SELECT 1')).then(() => undefined, () => true);
  }, 60_000);
}, 240_000);

afterAll(async () => {
  if (sideDataDir) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', sideDataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
  await azurite?.stop();
  if (walMount) {
    await execa('umount', [walMount], { reject: false }).then((r) => (r.exitCode === 0 ? r : execa('umount', ['-l', walMount], { reject: false })));
    await rm(walMount, { recursive: true, force: true });
  }
});

/** Every file of pg_wal and archive_status with its size: nothing removed, renamed or added. */
async function walSnapshot(): Promise<string[]> {
  const dir = join(walMount, 'pg_wal');
  const entries = [...(await readdir(dir)).map((n) => join(dir, n)), ...(await readdir(join(dir, 'archive_status'))).map((n) => join(dir, 'archive_status', n))];
  return Promise.all(entries.sort().map(async (path) => `${path} ${(await lstat(path)).size}`));
}

const json = (text: string) => JSON.parse(text) as { ok: boolean; code?: string; message?: string; hint?: string; result: Record<string, unknown> };

test('server down, storage down: the report says what fills pg_wal; --fix is refused (exit 3) and changes nothing', async () => {
  expect(committed).toBeGreaterThan(ROWS_PER_BATCH);
  const report = await runCli(['disk'], env);
  expect(report.code, report.stderr).toBe(0);
  // Usually stopped (the startup process found no room); a crash loop or a restart that found just enough room are handled too.
  expect(report.stdout, report.stdout).toMatch(/Server: (stopped|a postmaster runs but does not answer|running, accepts connections)/);
  expect(report.stdout).toMatch(/Waiting to be archived: \d+ segment\(s\)/);
  expect(report.stdout).toContain('WAL archive: UNREACHABLE');
  expect(report.stdout).toContain('Last disk-full error:');
  expect(report.stdout).toMatch(/pg_wal filesystem: \/tmp\/rb-diskwal-\w+: [\d.]+ (KiB|MiB) free of 32\.0 MiB/);

  const before = await walSnapshot();
  const wasUp = await postmasterOn(sandbox.production.dataDir);
  const fix = await runCli(['disk', '--fix', '--confirm', 'aiagent_prod', '--json'], env);
  expect(fix.code, fix.stdout + fix.stderr).toBe(3);
  const refusal = json(fix.stdout);
  expect(refusal.code).toBe('DISK_FULL_NOTHING_SAFE');
  expect(refusal.message).toContain('the WAL archive is unreachable');
  expect(refusal.hint).toMatch(/Bring storage back.*grow the filesystem holding pg_wal/is);
  expect(await walSnapshot()).toEqual(before);
  expect(await postmasterOn(sandbox.production.dataDir)).toBe(wasUp);
}, 120_000);

test('storage back: --fix archives the backlog, frees only archived WAL older than REDO, and production writes, keeps every row and archives again', async () => {
  azurite = await startAzurite(join(sandbox.root, 'azurite'), sandbox.azurite.port);
  const fix = await runCli(['disk', '--fix', '--confirm', 'aiagent_prod', '--json'], env);
  expect(fix.code, fix.stdout + fix.stderr).toBe(0);
  const result = json(fix.stdout).result as { mode: string; fix: { archived: { archived: number }; removed: { wal: { count: number; bytes: number } }; writable: boolean; archiving: { resumed: boolean }; before: { holds: string[]; availableBytes: number }[]; after: { holds: string[]; availableBytes: number }[] } };
  expect(result.mode).toBe('fix');
  expect(result.fix.archived.archived).toBeGreaterThan(0);
  expect(result.fix.removed.wal.count).toBeGreaterThan(0);
  expect(result.fix.writable).toBe(true);
  expect(result.fix.archiving.resumed).toBe(true);
  const walFs = (list: typeof result.fix.after) => list.find((fs) => fs.holds.includes('pg_wal'))!.availableBytes;
  expect(walFs(result.fix.after)).toBeGreaterThan(walFs(result.fix.before));

  // Every committed row is there, and production writes.
  const [rows] = await sandbox.query<{ n: string }>('SELECT count(*) AS n FROM t WHERE id <= $1', [committed]);
  expect(Number(rows!.n)).toBe(committed);
  await sandbox.query(`INSERT INTO t VALUES (0, 'after the fix')`);

  // No segment was removed before it was archived: a PITR to the end of WAL from the base backup has exactly production's rows.
  await sandbox.switchAndArchive();
  const restored = await runPitr(sandbox.context(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: 'after-disk-fix' });
  sideDataDir = restored.dataDir;
  const [prodHash] = await sandbox.query<{ rows: string; hash: string }>(tableHashSql('t'));
  const sideHash = await withClient({ socketDir: restored.socketDir!, port: restored.port! }, 'postgres', async (c) => (await c.query<{ rows: string; hash: string }>(tableHashSql('t'))).rows[0]);
  expect(sideHash).toEqual(prodHash);
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', restored.dataDir, 'immediate');
  sideDataDir = null;
}, 240_000);

test('an inactive slot holding WAL is reported and kept; dropped only when named, confirmed with its name', async () => {
  await sandbox.query(`SELECT pg_create_physical_replication_slot('old_standby', true)`);
  for (let i = 0; i < 4; i++) {
    await sandbox.query(`INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series($1::int, $1::int + 999) g`, [10_000_000 + i * 1000]);
    await sandbox.switchAndArchive();
  }
  await sandbox.query('CHECKPOINT');

  const report = await runCli(['disk', '--json'], env);
  expect(report.code, report.stderr).toBe(0);
  const shown = json(report.stdout).result as { mode: string; report: { slots: { name: string; active: boolean; holdsBytes: number; blocksBytes: number }[]; advice: string[] } };
  const slot = shown.report.slots.find((s) => s.name === 'old_standby')!;
  expect(slot).toMatchObject({ active: false });
  expect(slot.holdsBytes).toBeGreaterThan(3 * 1024 * 1024);
  expect(slot.blocksBytes).toBeGreaterThan(0);
  expect(shown.report.advice.join(' ')).toContain('--drop-slot old_standby');

  const kept = await runCli(['disk', '--fix', '--confirm', 'aiagent_prod', '--json'], env);
  expect(kept.code, kept.stdout).toBe(3);
  expect(json(kept.stdout).code).toBe('DISK_FULL_NOTHING_SAFE');
  expect(await sandbox.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'old_standby'`)).toHaveLength(1);

  const wrong = await runCli(['disk', '--fix', '--drop-slot', 'old_standby', '--confirm', 'aiagent_prod'], env);
  expect(wrong.code).toBe(2);
  // As the runner plans and runs it (Slack): bound to the database host, the steps it reports are the plan's, destructive ones fenced.
  const events: EngineEvent[] = [];
  const engine = { ...sandbox.context(), events: { emit: (event: EngineEvent) => void events.push(event) } };
  const ctx = { engine, config: sandbox.config, cli: null };
  const args = disk.parse(['--fix', '--drop-slot', 'old_standby']);
  expect(disk.confirmation(args, { production: { name: 'aiagent_prod' } })).toBe('aiagent_prod/old_standby');
  const plan = routePlan(disk.plan!(args, { ...(await disk.gather!(ctx, args)), now: new Date(), production: { name: 'aiagent_prod' }, requestId: 'disk-test' }), disk.runsOn!(args), { host: 'db1', dataDir: sandbox.production.dataDir });
  expect(plan.runsOn).toEqual({ host: 'db1', dataDir: sandbox.production.dataDir });
  expect(plan.steps.map((s) => s.kind).filter((kind) => kind !== 'archive-backlog')).toEqual(['drop-slot', 'remove-wal', 'check']);
  const fenced: string[] = [];
  const result = await disk.run!({ ...ctx, beforeDestructiveStep: async (kind) => void fenced.push(kind) }, disk.paramsSchema!.parse(plan.params));
  expect(events.flatMap((e) => (e.type === 'step.started' ? [e.step] : []))).toEqual(plan.steps.map((s) => s.kind));
  expect(fenced).toEqual(['drop-slot', 'remove-wal']);
  expect(result).toMatchObject({ mode: 'fix', fix: { droppedSlot: 'old_standby', writable: true, archiving: { resumed: true } } });
  expect((result as { fix: { removed: { wal: { count: number } } } }).fix.removed.wal.count).toBeGreaterThan(0);
  expect(await sandbox.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'old_standby'`)).toHaveLength(0);
}, 180_000);
