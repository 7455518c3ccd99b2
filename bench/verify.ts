/**
 * Verification time against the size of the data (issue 24 item 1): one local cluster, a pgbench
 * database per scale, verifyRestored timed three ways, alternating: the default configuration
 * (exact below 1024 MB), a small threshold (exact below 16 MB: what a big production looks like
 * with the defaults) and every table counted exactly (what copies do). Prints seconds per run and the
 * ratio to all-exact; never asserts. Scale 300 and 1000 (4 and 15 GB) need the disk and time.
 *
 *   npm run bench:verify -- [scales, default 10,50] [rounds, default 3]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { parseIntegrityConfig } from '../src/config.js';
import { createExec } from '../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { verifyRestored, type VerifyOptions } from '../src/engine/verify.js';

const BIN = '/usr/lib/postgresql/15/bin';
const SCALES = (process.argv[2] ?? '10,50').split(',').map(Number);
const ROUNDS = Number(process.argv[3] ?? 3);
const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const exec = createExec(pino({ level: 'silent' }));
const dir = await mkdtemp(join(tmpdir(), 'rb-bench-verify-'));
await chmod(dir, 0o755);
const cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off', shared_buffers: '128MB' } }));
const connection = { host: cluster.socketDir, port: cluster.port, user: 'postgres' };
const ways: [string, VerifyOptions][] = [
  ['default', {}],
  ['exact<16MB', { integrity: parseIntegrityConfig(JSON.stringify({ exactCountBelowMb: 16 })) }],
  ['all exact', { counts: 'exact' }],
];
const rows: string[] = [];
try {
  for (const scale of SCALES) {
    const db = `bench_${scale}`;
    await withClient(cluster, 'postgres', (client) => client.query(`CREATE DATABASE ${db}`));
    log(`pgbench -i -s ${scale} …`);
    await execa(`${BIN}/pgbench`, ['-i', '-q', '-s', String(scale), '-h', cluster.socketDir, '-p', String(cluster.port), '-U', 'postgres', db]);
    const mb = await withClient(cluster, db, async (client) => Number((await client.query('SELECT pg_database_size(current_database()) / 1048576 AS mb')).rows[0].mb));
    const times = new Map<string, number[]>(ways.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, options] of round % 2 === 0 ? ways : [...ways].reverse()) {
        const start = performance.now();
        const report = await verifyRestored(connection, { ...options, databases: [db] });
        const seconds = (performance.now() - start) / 1000;
        times.get(name)!.push(seconds);
        log(`scale ${scale} ${name}: ${seconds.toFixed(2)} s (${report.checks.find((c) => c.name === `database ${db}`)?.message})`);
      }
    }
    const exact = median(times.get('all exact')!);
    rows.push(`${String(scale).padStart(5)} ${String(mb).padStart(7)} ${ways.map(([name]) => `${median(times.get(name)!).toFixed(2).padStart(9)} (${(median(times.get(name)!) / exact).toFixed(2)})`).join(' ')}`);
    await withClient(cluster, 'postgres', (client) => client.query(`DROP DATABASE ${db}`));
  }
  console.log(`scale   MiB  ${ways.map(([name]) => name.padStart(16)).join(' ')}   (median s, ratio to all exact)`);
  for (const row of rows) console.log(row);
} finally {
  await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate');
  await rm(dir, { recursive: true, force: true });
}
