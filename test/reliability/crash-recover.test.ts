/**
 * `recover crash` through the CLI on a real production cluster that is really killed (-9, the
 * postmaster and every child) while its archiving lags (archive_command failing, as when storage
 * is unreachable: its last segments exist only in pg_wal).
 * - Files intact: triage chooses crash recovery; --recover starts production with every row.
 * - A relation's data file removed after the kill: triage sees it (WAL after the checkpoint
 *   changes that file) and chooses the rebuild; --recover saves and archives the local-only WAL
 *   first, restores the base backup in place, replays archive + saved tail to the end and brings
 *   back EVERY committed row, those only in the unarchived tail included (RPO 0); the damaged
 *   directory and the saved WAL are kept, the partial segment is in the archive.
 * One sandbox; waits are for conditions, never fixed sleeps.
 */
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { appendConf, exists, freePort, makeOwnedDir, startCluster, stopCluster, withClient } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { listAll } from '../../src/storage/blob-store.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { runCli } from '../support/run-cli.js';
import { until } from '../support/until.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let hookCommand: string;

const rowsOf = async (): Promise<{ n: number; ids: string }> =>
  (await sandbox.query<{ n: number; ids: string }>(`SELECT count(*)::int AS n, md5(string_agg(id::text, ',' ORDER BY id)) AS ids FROM workflows`, [], 'aiagent_prod'))[0]!;

async function setArchiveCommand(command: string): Promise<void> {
  await sandbox.query(`ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`);
  await sandbox.query('SELECT pg_reload_conf()');
}

/** Archiving fails from here (storage "down"), then rows land in segments that are never archived. */
async function commitUnarchivedTail(from: number): Promise<void> {
  await setArchiveCommand('false');
  await sandbox.query(`INSERT INTO workflows SELECT g, g % 7, now() FROM generate_series(${from}, ${from + 999}) g`, [], 'aiagent_prod');
  await sandbox.query('SELECT pg_switch_wal()');
  // The very last commits sit in the partly written current segment.
  for (let i = 0; i < 5; i++) await sandbox.query(`INSERT INTO workflows VALUES (${from + 1000 + i}, 1, now())`, [], 'aiagent_prod');
}

/** kill -9 of the postmaster and all its children, as an OOM kill or a power cut of the process tree. */
async function killProduction(dataDir = sandbox.production.dataDir): Promise<void> {
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children = (await sandbox.exec.run('pgrep', ['-P', String(pid)], { allowFailure: true })).stdout.split('\n').filter(Boolean).map(Number);
  for (const target of [pid, ...children]) process.kill(target, 'SIGKILL');
  await until('the killed processes to be gone', async () => ([pid, ...children].every((p) => { try { process.kill(p, 0); return false; } catch { return true; } }) ? true : undefined), 30_000);
}

const cli = (words: string[]) => runCli(words, env);

beforeAll(async () => {
  sandbox = await startSandbox();
  hookCommand = (await sandbox.query<{ c: string }>(`SELECT current_setting('archive_command') AS c`))[0]!.c;
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query(`CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL, updated_at timestamptz NOT NULL); INSERT INTO workflows SELECT g, g % 7, now() FROM generate_series(1, 5000) g`, [], 'aiagent_prod');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`INSERT INTO workflows SELECT g, g % 7, now() FROM generate_series(5001, 8000) g`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  env = sandbox.cliEnv({ RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir });
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('files intact: triage chooses crash recovery, --recover starts production with every committed row', async () => {
  await commitUnarchivedTail(10_001);
  const before = await rowsOf();
  await killProduction();

  const triage = await cli(['crash']);
  expect(triage.code, triage.stdout + triage.stderr).toBe(0);
  expect(triage.stdout).toContain('start production: crash recovery');
  expect(triage.stdout).toMatch(/Only in pg_wal\s+2 segments [0-9A-F]{24} … [0-9A-F]{24} .*partly written.*6 committed transactions/);

  const refused = await cli(['crash', '--recover']);
  expect(refused.code).toBe(2); // destructive: needs --confirm without a terminal
  const run = await cli(['crash', '--recover', '--confirm', 'aiagent_prod']);
  expect(run.stderr).toContain('Start production');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('crash recovery replayed its WAL');
  expect(await rowsOf()).toEqual(before);

  // Storage "back": the lagging segments are archived, production writable.
  await setArchiveCommand(hookCommand);
  await sandbox.switchAndArchive();
}, 120_000);

test('a removed data file: triage chooses the rebuild, --recover brings back every committed row, the unarchived tail included (RPO 0)', async () => {
  const [{ path }] = (await sandbox.query<{ path: string }>(`SELECT pg_relation_filepath('workflows') AS path`, [], 'aiagent_prod')) as [{ path: string }];
  await commitUnarchivedTail(20_001);
  const before = await rowsOf();
  await killProduction();
  await rm(join(sandbox.production.dataDir, path));

  const triage = await cli(['crash', '--json']);
  expect(triage.code).toBe(0);
  const facts = (JSON.parse(triage.stdout) as { result: { triage: { path: string; findings: string[]; localOnly: { segments: string[]; partial: string } } } }).result;
  expect(facts.triage.path).toBe('rebuild');
  expect(facts.triage.findings.join('\n')).toContain(`${path} is missing`);
  const tail = facts.triage.localOnly.segments;
  expect(tail.length).toBe(2);

  const run = await cli(['crash', '--recover', '--confirm', 'aiagent_prod']);
  expect(run.stderr).toContain('Rebuild production');
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stdout).toContain('RPO 0');
  expect(await rowsOf()).toEqual(before);

  // The damaged directory and the saved WAL are kept beside production's; the tail is archived.
  const siblings = await readdir(dirname(sandbox.production.dataDir));
  const base = basename(sandbox.production.dataDir);
  expect(siblings.some((name) => name.startsWith(`${base}.before-pitr-`))).toBe(true);
  const savedDir = siblings.find((name) => name.startsWith(`${base}.local-wal-`));
  expect(savedDir).toBeDefined();
  expect((await readdir(join(dirname(sandbox.production.dataDir), savedDir!))).sort()).toEqual(tail);
  const archived = (await listAll(sandbox.storage.wal, 'wal/')).map((blob) => blob.key.slice('wal/'.length));
  expect(archived).toContain(tail[0]);
  expect(archived).toContain(`${facts.triage.localOnly.partial}.partial`);
  expect(await exists(join(sandbox.production.dataDir, path))).toBe(true);
  // The restore's settings (restore_command, the pinned timeline) are gone once verified: a standby cloned from production later must not inherit them.
  const settings = await readFile(join(sandbox.production.dataDir, 'postgresql.auto.conf'), 'utf8');
  expect(settings).not.toMatch(/restore_command|recovery_target/);

  // Production is writable on its new timeline, and archives it.
  await sandbox.query(`INSERT INTO workflows VALUES (99999, 1, now())`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
}, 180_000);

test('damaged WAL in the unarchived tail: the rebuild replays up to the damage and names exactly the transactions lost after it', async () => {
  await setArchiveCommand('false');
  const [{ lsn, file }] = (await sandbox.query<{ lsn: string; file: string }>(`SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn() + 1) AS file`)) as [{ lsn: string; file: string }];
  const kept = await rowsOf();
  await commitUnarchivedTail(30_001);
  await killProduction();
  // A page in the middle of the 1000-row insert's WAL is zeroed: readable WAL follows the damage.
  const offset = ((Number.parseInt(lsn.split('/')[1]!, 16) % (16 * 1024 * 1024)) & ~8191) + 3 * 8192;
  const segment = await open(join(sandbox.production.dataDir, 'pg_wal', file), 'r+');
  await segment.write(Buffer.alloc(8192), 0, 8192, offset);
  await segment.close();

  const triage = await cli(['crash', '--json']);
  const found = (JSON.parse(triage.stdout) as { result: { triage: { path: string; damage: { lostCommits: { count: number } } | null } } }).result.triage;
  expect(found.path).toBe('rebuild');
  expect(found.damage?.lostCommits.count).toBe(6);

  const run = await cli(['crash', '--recover', '--confirm', 'aiagent_prod']);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stdout).toMatch(/Lost: 6 committed transactions, from xid \d+ at .* to xid \d+ at .* in WAL after the damage at/);
  // Everything before the damage is back; the insert cut by it and the 5 commits after it are not.
  expect(await rowsOf()).toEqual(kept);
  await setArchiveCommand(hookCommand);
}, 180_000);

test('a broken streaming replica (killed, a data file removed): rebuilt from its primary with pg_basebackup, streaming again, its old directory kept', async () => {
  const bin = sandbox.config.pg.bin;
  const root = join(sandbox.root, 'replica');
  const owner = await ownerFor('postgres');
  const replica = { dataDir: join(root, 'data'), socketDir: join(root, 'run'), port: await freePort(), logFile: join(root, 'server.log') };
  await makeOwnedDir(root, owner);
  await makeOwnedDir(replica.socketDir, owner);
  try {
    await sandbox.exec.run(join(bin, 'pg_basebackup'), ['-D', replica.dataDir, '-d', `host=${sandbox.production.socketDir} port=${sandbox.production.port} user=postgres`, '-X', 'stream', '-R', '-c', 'fast'], { asUser: 'postgres' });
    await appendConf(replica.dataDir, { port: String(replica.port), unix_socket_directories: replica.socketDir, archive_mode: 'off' }, 'the replica\'s own');
    await startCluster(sandbox.exec, bin, 'postgres', replica);
    const onReplica = <T,>(sql: string) => withClient(replica, 'aiagent_prod', async (client) => (await client.query(sql)).rows[0] as T);
    const caughtUp = async () => {
      const primary = await rowsOf();
      await until('the replica to replay the primary\'s rows', async () => ((await onReplica<{ n: number; ids: string }>(`SELECT count(*)::int AS n, md5(string_agg(id::text, ',' ORDER BY id)) AS ids FROM workflows`)).ids === primary.ids ? true : undefined), 60_000);
    };
    await caughtUp();
    const [{ path }] = (await sandbox.query<{ path: string }>(`SELECT pg_relation_filepath('workflows') AS path`, [], 'aiagent_prod')) as [{ path: string }];
    await killProduction(replica.dataDir);
    await rm(join(replica.dataDir, path));

    const replicaEnv = sandbox.cliEnv({ RECOVER_SOURCE_DATA_DIR: replica.dataDir, RECOVER_SOURCE_URL: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(replica.socketDir)}&port=${replica.port}` });
    const triage = await runCli(['crash'], replicaEnv);
    expect(triage.code, triage.stdout + triage.stderr).toBe(0);
    expect(triage.stdout).toMatch(/Recovery\s+rebuild the standby from its primary/);
    const fromBackup = await runCli(['crash', '--recover', '--from-backup', '--confirm', 'aiagent_prod'], replicaEnv);
    expect(fromBackup.code).toBe(3); // never a second primary

    const run = await runCli(['crash', '--recover', '--confirm', 'aiagent_prod'], replicaEnv);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('rebuilt from its primary');
    await sandbox.query(`INSERT INTO workflows VALUES (123456, 1, now())`, [], 'aiagent_prod');
    await caughtUp();
    expect(await exists(join(replica.dataDir, path))).toBe(true);
    expect((await readdir(root)).some((name) => name.startsWith('data.before-pitr-'))).toBe(true);
  } finally {
    await stopCluster(sandbox.exec, bin, 'postgres', replica.dataDir, 'immediate').catch(() => undefined);
  }
}, 180_000);
