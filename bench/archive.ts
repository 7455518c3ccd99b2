/**
 * Archiver lag under a write-heavy pgbench, two ways in one run: (a) archive_command = the
 * agent hook (a 40 ms client talking to a warm WAL agent), (b) archive_command = a cold
 * `recover wal-push` process per segment. Samples pg_stat_archiver once a second and prints
 * how far archiving falls behind; never asserts.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../devkit/sandbox.js';
import { shellQuote } from '../src/engine/pg-settings.js';

const SECONDS = Number(process.argv[2] ?? 30);
const log = (text: string) => process.stderr.write(`${text}\n`);

interface LagStats {
  segments: number;
  maxLagSegments: number;
  p50LagSegments: number;
  secondsToDrain: number;
}

async function measure(sandbox: Sandbox, archiveCommand: string, workload: 'tpcb' | 'bulk'): Promise<LagStats> {
  await sandbox.query(`ALTER SYSTEM SET archive_command = ${"'" + archiveCommand.replace(/'/g, "''") + "'"}`);
  await sandbox.query('SELECT pg_reload_conf()');
  await sandbox.switchAndArchive();
  const pgbench = join(sandbox.config.pg.bin, 'pgbench');
  const connArgs = ['-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres'];
  const segmentNo = (name: string) => Number.parseInt(name.slice(8, 16), 16) * 256 + Number.parseInt(name.slice(16, 24), 16);
  const lags: number[] = [];
  const [start] = await sandbox.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name');
  // Write-heavy: each transaction inserts ~1 MB of rows, so several segments fill per second.
  const script = join(sandbox.root, 'bulk.sql');
  await writeFile(script, `INSERT INTO bulk SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 5000) g;\n`);
  await chmod(script, 0o644);
  const scriptArgs = workload === 'bulk' ? ['-f', script] : [];
  const load = sandbox.exec.run(pgbench, ['-n', '-c', '4', '-j', '2', '-T', String(SECONDS), ...scriptArgs, ...connArgs], { timeoutMs: (SECONDS + 60) * 1000 });
  let done = false;
  void load.finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, 1000));
    const [row] = await sandbox.query<{ current: string; last: string | null }>(
      `SELECT pg_walfile_name(pg_current_wal_lsn()) AS current, last_archived_wal AS last FROM pg_stat_archiver`,
    );
    if (row?.last && row.last.length === 24) lags.push(Math.max(0, segmentNo(row.current) - segmentNo(row.last) - 1));
  }
  await load;
  const [end] = await sandbox.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS name');
  const drainStart = Date.now();
  // The bulk load can leave the archiver minutes behind: wait for it (bounded) before measuring the drain.
  for (let i = 0; i < 10; i++) {
    try {
      await sandbox.switchAndArchive();
      break;
    } catch (error) {
      if (i === 9) throw error;
    }
  }
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    segments: segmentNo(end!.name) - segmentNo(start!.name),
    maxLagSegments: sorted.at(-1) ?? 0,
    p50LagSegments: sorted[Math.floor(sorted.length / 2)] ?? 0,
    secondsToDrain: (Date.now() - drainStart) / 1000,
  };
}

const sandbox = await startSandbox();
try {
  await sandbox.exec.run(join(sandbox.config.pg.bin, 'pgbench'), ['-i', '-s', '10', '-q', '-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres']);
  await sandbox.query('CREATE UNLOGGED TABLE IF NOT EXISTS bulk_unused (id int)');
  await sandbox.query('CREATE TABLE bulk (id int, payload text)');
  const agentCommand = (await sandbox.query<{ cmd: string }>(`SELECT current_setting('archive_command') AS cmd`))[0]!.cmd;
  const coldScript = join(sandbox.root, 'cold-push.sh');
  await writeFile(
    coldScript,
    `#!/bin/sh\nexport RECOVER_STORAGE_DRIVER=azure RECOVER_AZURE_CONNECTION_STRING=${shellQuote(sandbox.azurite.connectionString)} LOG_LEVEL=error\nexec ${shellQuote(process.execPath)} ${shellQuote(resolve('bin/recover.mjs'))} wal-push "$1" "$2"\n`,
  );
  await chmod(coldScript, 0o755);
  // pgbench's own TPC-B-like load, both ways; then a bulk-insert load (~1 MB per transaction) through the agent.
  const agent = await measure(sandbox, agentCommand, 'tpcb');
  log(`agent, pgbench tpcb: ${JSON.stringify(agent)}`);
  const cold = await measure(sandbox, `${shellQuote(coldScript)} "%p" "%f"`, 'tpcb');
  log(`cold,  pgbench tpcb: ${JSON.stringify(cold)}`);
  const bulk = await measure(sandbox, agentCommand, 'bulk');
  log(`agent, bulk inserts: ${JSON.stringify(bulk)}`);
  process.stdout.write(
    `archive_agent_max_lag_segments=${agent.maxLagSegments} archive_cold_max_lag_segments=${cold.maxLagSegments} ` +
      `archive_agent_drain_s=${agent.secondsToDrain.toFixed(2)} archive_cold_drain_s=${cold.secondsToDrain.toFixed(2)} ` +
      `bulk_segments=${bulk.segments} bulk_agent_max_lag_segments=${bulk.maxLagSegments} bulk_agent_drain_s=${bulk.secondsToDrain.toFixed(2)}\n`,
  );
} finally {
  await sandbox.cleanup();
}
