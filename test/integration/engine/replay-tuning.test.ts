/**
 * The restored instance is tuned for replay and only for replay: during replay it runs with
 * the replay-only settings, afterwards on production's own (side and in place, promoted or
 * paused), and postgresql.auto.conf no longer carries them. Production here has distinctive
 * values of every tuned setting (and fsync on, unlike the sandbox's default), so "back to
 * production's" cannot pass by accident on a default.
 */
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { startCluster, stopCluster, withClient } from '../../../src/engine/local-cluster.js';
import { REPLAY_ONLY_HEADER } from '../../../src/engine/pg-settings.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';

// wal_recycle has only two values; production's is the default, and the log shows it coming back.
const PRODUCTION = { max_wal_size: '2GB', checkpoint_timeout: '7min', fsync: 'on', wal_recycle: 'on' };
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ productionSettings: PRODUCTION });
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  await sandbox.query('INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1001, 2000) g');
  await sandbox.switchAndArchive();
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function shown(connection: { socketDir: string; port: number }): Promise<Record<string, string>> {
  return withClient(connection, 'postgres', async (client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`,
      [Object.keys(PRODUCTION)],
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  });
}

/** The replay-only block is gone from the file, and none of its values is left in it. */
async function expectNoReplayBlock(dataDir: string): Promise<void> {
  const text = await readFile(join(dataDir, 'postgresql.auto.conf'), 'utf8');
  expect(text).not.toContain(REPLAY_ONLY_HEADER);
  expect(text).not.toMatch(/max_wal_size = '256MB'|checkpoint_timeout = '1d'|fsync = 'off'|wal_recycle = 'off'/);
}

test('a side instance replays with fsync off, is reloaded with fsync on and synced while running, and runs on production settings', async () => {
  const before = sandbox.events.length;
  // Every sync the job runs, with what the server log said when it began.
  const syncs: { args: string[]; logThen: string }[] = [];
  const context = sandbox.context();
  const exec = {
    ...context.exec,
    run: async (file: string, args: string[], options?: Parameters<typeof context.exec.run>[2]) => {
      if (file === 'sync') syncs.push({ args, logThen: await readFile(join(dirname(args.at(-1)!), 'server.log'), 'utf8').catch(() => '') });
      return context.exec.run(file, args, options);
    },
  };
  const result = await runPitr({ ...context, exec }, sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side' });
  const connection = { socketDir: result.socketDir!, port: result.port! };
  try {
    expect(result.state).toBe('promoted');
    expect(await shown(connection)).toEqual(PRODUCTION);
    await expectNoReplayBlock(result.dataDir);
    const log = await readFile(join(result.dataDir, '..', 'server.log'), 'utf8');
    // Replay itself ran with the tuned values: the server says so when they are taken back.
    expect(log).toMatch(/parameter "max_wal_size" changed to "2GB"/);
    expect(log).toMatch(/parameter "wal_recycle" changed to "on"/);
    // fsync came back on before the checkpoint the sync step asks for (log_checkpoints), and
    // the server was never restarted for it: ready once.
    const fsyncOn = log.search(/parameter "fsync" changed to "on"/);
    expect(fsyncOn).toBeGreaterThan(-1);
    expect(log.slice(fsyncOn)).toMatch(/checkpoint starting: immediate force wait/);
    expect(log.match(/database system is ready to accept connections/g)).toHaveLength(1);
    // syncfs of the data directory's file system twice: once as replay starts, and last once
    // fsync is on again and the checkpoint asked for then is complete.
    const dataDir = await realpath(result.dataDir);
    expect(syncs.map((sync) => sync.args)).toEqual([['--file-system', '--', dataDir], ['--file-system', '--', dataDir]]);
    expect(syncs[0]!.logThen).not.toMatch(/redo done/);
    const last = syncs[1]!.logThen;
    expect(last.slice(last.search(/parameter "fsync" changed to "on"/))).toMatch(/checkpoint starting: immediate force wait[\s\S]*checkpoint complete/);
    const finished = sandbox.events.slice(before).find((event) => event.type === 'step.finished' && event.step === 'replay-wal');
    expect(finished).toMatchObject({ detail: expect.stringContaining('reloaded and synced on its own settings') });
    expect((await withClient(connection, 'postgres', (c) => c.query('SELECT count(*)::int AS n FROM t'))).rows[0].n).toBe(2000);
    // What was handed over survives a crash: stopped without a shutdown checkpoint, it starts
    // again by crash recovery from what is in its files, with every row.
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
    await startCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', { dataDir: result.dataDir, port: result.port!, socketDir: result.socketDir!, logFile: join(result.dataDir, '..', 'server.log') }, 120, new AbortController().signal);
    expect((await withClient(connection, 'postgres', (c) => c.query('SELECT count(*)::int AS n FROM t'))).rows[0].n).toBe(2000);
    expect(await readFile(join(result.dataDir, '..', 'server.log'), 'utf8')).toMatch(/database system was interrupted|was not properly shut down/);
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
});

test('a write-back error seen by the sync started with replay fails the job, and the server is not left running', async () => {
  const context = sandbox.context();
  let syncCalls = 0;
  const exec = {
    ...context.exec,
    run: async (file: string, args: string[], options?: Parameters<typeof context.exec.run>[2]) => {
      // The first sync is the early one: it reports what syncfs(2) reports after a failed write-back.
      if (file === 'sync' && ++syncCalls === 1) throw new Error('sync: error syncing: Input/output error');
      return context.exec.run(file, args, options);
    },
  };
  const name = 'early-sync-fails';
  const failure = await runPitr({ ...context, exec }, sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: name }).then(
    () => null,
    (error: { code?: string; message: string }) => error,
  );
  expect(failure).toMatchObject({ code: 'RESTORE_FAILED', message: expect.stringContaining('could not be synced to disk: sync: error syncing: Input/output error') });
  // Replay went on meanwhile; the error is not dropped: the promoted server is stopped, never handed over.
  expect(syncCalls).toBe(1);
  const dataDir = join(sandbox.config.restoreRoot, name, 'data');
  await expect(readFile(join(dataDir, 'postmaster.pid'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await readFile(join(sandbox.config.restoreRoot, name, 'server.log'), 'utf8')).toMatch(/redo done/);
});

test('a paused instance keeps none of them, and never ran with fsync off (it is handed over without a restart)', async () => {
  const result = await runPitr(sandbox.context(), sandbox.config, {
    target: { kind: 'immediate' },
    inclusive: true,
    action: 'pause',
    to: 'side',
  });
  try {
    expect(result.state).toBe('paused');
    await expectNoReplayBlock(result.dataDir);
    const connection = { socketDir: result.socketDir!, port: result.port! };
    // The reload is asynchronous: wait until the server has applied it.
    let settings = await shown(connection);
    for (let tries = 0; settings.max_wal_size !== PRODUCTION.max_wal_size && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      settings = await shown(connection);
    }
    expect(settings).toEqual(PRODUCTION);
    const log = await readFile(join(result.dataDir, '..', 'server.log'), 'utf8');
    expect(log).toMatch(/parameter "max_wal_size" changed to "2GB"/);
    expect(log).not.toMatch(/parameter "fsync" changed/);
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
});

test('in place, production comes back on its own settings', async () => {
  const result = await runPitr(sandbox.context(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'in-place' });
  expect(result.state).toBe('promoted');
  expect(await shown(sandbox.production)).toEqual(PRODUCTION);
  await expectNoReplayBlock(sandbox.production.dataDir);
  // Production's clients may write as soon as it promotes: fsync was never off in place.
  const log = await readFile(join(`${sandbox.production.dataDir}.recover`, 'server.log'), 'utf8');
  expect(log).toMatch(/parameter "max_wal_size" changed to "2GB"/);
  expect(log).not.toMatch(/parameter "fsync" changed/);
  expect((await sandbox.query<{ n: number }>('SELECT count(*)::int AS n FROM t'))[0]!.n).toBe(2000);
});
