/**
 * Issue 19 item 1: production laid out like Debian/Ubuntu's packages (pg_createcluster: its
 * postgresql.conf, pg_hba.conf and pg_ident.conf under /etc/postgresql/15/<name>, outside the
 * data directory and so outside every backup; started with pg_ctlcluster). Through the CLI:
 * a file-level backup records where the configuration lives; a side PITR gets its own
 * configuration files and restores the rows (it failed with ENOENT …/data/pg_hba.conf); a
 * failure in place after production was stopped rolls back and starts production with its
 * configuration again (it was left STOPPED, "could not create any TCP/IP sockets"); an in-place
 * PITR starts the restored production with its configuration. The plain initdb layout is
 * covered by the other PITR tests.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDebianCluster, type DebianCluster } from '../../../devkit/debian-cluster.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import type { BackupManifest } from '../../../src/catalog/catalog.js';
import type { EngineContext } from '../../../src/engine/context.js';
import { exists, stopCluster, withClient } from '../../../src/engine/local-cluster.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { inPlaceSwap } from '../../../src/engine/restore-layout.js';
import type { EngineEvent } from '../../../src/types.js';
import { rejection } from '../../support/refusal.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let debian: DebianCluster;
let env: Record<string, string>;
const sideDataDirs: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  debian = await createDebianCluster(sandbox);
  sandbox.config.source = { url: debian.url, dataDir: debian.dataDir, stop: { method: 'pg_ctl' } };
  env = sandbox.cliEnv({ RECOVER_SOURCE_URL: debian.url, RECOVER_SOURCE_DATA_DIR: debian.dataDir });
  await debian.query('CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL)');
  await debian.query('INSERT INTO workflows SELECT g, g % 10 FROM generate_series(1, 300) g');
}, 180_000);

afterAll(async () => {
  for (const dataDir of sideDataDirs) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', dataDir, 'immediate').catch(() => undefined);
  try {
    await debian?.drop();
  } finally {
    await sandbox?.cleanup();
  }
});

async function rows(): Promise<number> {
  return (await debian.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows'))[0]!.n;
}

async function runningWithItsConfig(): Promise<void> {
  const [row] = await debian.query<{ config_file: string; port: string; recovering: boolean }>(`SELECT current_setting('config_file') AS config_file, current_setting('port') AS port, pg_is_in_recovery() AS recovering`);
  expect(row).toEqual({ config_file: debian.configFile, port: String(debian.port), recovering: false });
}

test('a file-level backup records where the configuration lives', async () => {
  const backup = await runCli(['backup', '--json'], env);
  expect(backup.code, backup.stderr).toBe(0);
  const keys: string[] = [];
  for await (const blob of sandbox.storage.backups.list(sandbox.storage.backupPrefix)) if (blob.key.endsWith('/manifest.json')) keys.push(blob.key);
  expect(keys).toHaveLength(1);
  const manifest = JSON.parse(Buffer.concat(await (await sandbox.storage.backups.getStream(keys[0]!)).toArray()).toString()) as BackupManifest;
  expect(manifest.method).toBe('files');
  expect(manifest.sourceLayout).toMatchObject({ dataDirectory: debian.dataDir, configFile: debian.configFile, hbaFile: join(dirname(debian.configFile), 'pg_hba.conf') });
  await debian.query('DELETE FROM workflows WHERE id > 200');
  await debian.query('INSERT INTO workflows VALUES (1000, 7)');
  await switchAndArchive();
}, 180_000);

test('a side PITR gets its own configuration files and restores the rows', async () => {
  await switchAndArchive();
  const run = await runCli(['pitr', '--latest', '--instance', 'debian-side', '--json'], env);
  expect(run.code, run.stderr).toBe(0);
  const instance = join(sandbox.config.restoreRoot, 'debian-side');
  sideDataDirs.push(join(instance, 'data'));
  const autoConf = await readFile(join(instance, 'data', 'postgresql.auto.conf'), 'utf8');
  const port = Number([...autoConf.matchAll(/^port = (\d+)$/gm)].at(-1)![1]);
  const side = await withClient({ socketDir: join(instance, 'run'), port }, 'postgres', async (client) => (await client.query(`SELECT (SELECT count(*)::int FROM workflows) AS n, current_setting('config_file') AS config_file, current_setting('hba_file') AS hba_file`)).rows[0]);
  expect(side).toEqual({ n: 201, config_file: join(instance, 'data', 'postgresql.conf'), hba_file: join(instance, 'data', 'pg_hba.conf') });
  expect(await readFile(join(instance, 'data', 'pg_hba.conf'), 'utf8')).toMatch(/^local all all trust$/m);
}, 300_000);

/** A context whose event sink fails at the start of restore-base-backup: production is stopped and moved aside by then. */
function failingAfterStop(): EngineContext {
  const base = sandbox.context();
  return {
    ...base,
    events: {
      emit(event: EngineEvent) {
        if (event.type === 'step.started' && event.step === 'restore-base-backup') throw new Error('injected fault after the stop');
        base.events.emit(event);
      },
    },
  };
}

test('a failure in place after the stop rolls back and starts production with its configuration', async () => {
  const error = await rejection(runPitr(failingAfterStop(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'in-place' }));
  expect(error.forChannel()).toContain(`Production is running again on its previous data directory ${debian.dataDir}`);
  await runningWithItsConfig();
  expect(await rows()).toBe(201);
  expect((await readdir(dirname(debian.dataDir))).filter((name) => name.startsWith('data.before-pitr-'))).toEqual([]);
}, 300_000);

test('in place, where the configuration lives unknown (role without pg_read_all_settings, no record): refused before production is stopped', async () => {
  await debian.query("DO $$ BEGIN CREATE ROLE plain LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  const pid = (await readFile(join(debian.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0];
  const swap = inPlaceSwap(sandbox.context(), sandbox.config.pg, sandbox.config, { host: debian.socketDir, port: debian.port, user: 'plain', database: 'postgres' }, await ownerFor('postgres'), undefined);
  const error = await rejection(swap.stopProduction());
  expect(error.code).toBe('CONFIG_INVALID');
  expect(error.message).toContain('Production was not stopped');
  expect(await swap.rollBack()).toBe('Production was not stopped and nothing was moved.');
  expect((await readFile(join(debian.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]).toBe(pid);
  await runningWithItsConfig();
}, 60_000);

test('an in-place PITR starts the restored production with its configuration', async () => {
  await debian.query('DELETE FROM workflows WHERE id <= 100');
  await switchAndArchive();
  const run = await runCli(['pitr', '--latest', '--to', 'in-place', '--confirm', 'aiagent_prod', '--json'], env);
  expect(run.code, run.stderr).toBe(0);
  await runningWithItsConfig();
  expect(await rows()).toBe(101);
  // No configuration was put into the restored data directory in its place.
  expect(await exists(join(debian.dataDir, 'pg_hba.conf'))).toBe(false);
}, 300_000);

async function switchAndArchive(): Promise<void> {
  const [row] = await debian.query<{ name: string }>(`SELECT pg_walfile_name(pg_switch_wal()) AS name`);
  for (let i = 0; i < 1200; i++) {
    const [stat] = await debian.query<{ last: string | null }>(`SELECT last_archived_wal AS last FROM pg_stat_archiver`);
    if (stat?.last && stat.last.slice(0, 24) >= row!.name) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`segment ${row!.name} was not archived within 60 s`);
}
