/**
 * A throwaway control database for the demo, benchmarks and tests: its own cluster on a free
 * port (the control DB must survive the disaster being recovered, so it never shares
 * production's). Tests restart it, or stop it for a while, the way a managed PostgreSQL's
 * maintenance does, and see the runner and the bot ride it out.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { migrate } from '../src/control/index.js';
import type { Exec } from '../src/engine/exec.js';
import { freePort, initCluster, startCluster, startOnFreePort, stopCluster } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { createPool } from '../src/engine/pg-client.js';

export interface ControlCluster {
  url: string;
  pool: pg.Pool;
  dataDir: string;
  /** `pg_ctl restart -m <mode>` as postgres: every session is ended, the server is back when it returns. */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** The server down (`pg_ctl stop -m <mode>`) until startServer(); the cluster and its data stay. */
  stopServer(mode: 'fast' | 'immediate'): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlCluster(exec: Exec, root: string, bin = '/usr/lib/postgresql/15/bin'): Promise<ControlCluster> {
  const initialized = await initCluster(exec, {
    bin,
    osUser: 'postgres',
    owner: await ownerFor('postgres'),
    dataDir: join(root, 'control', 'data'),
    socketDir: join(root, 'control', 'run'),
    port: await freePort(),
    settings: { fsync: 'off' },
  });
  const cluster = await startOnFreePort(exec, bin, 'postgres', initialized);
  const { port } = cluster;
  const url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(cluster.socketDir)}&port=${port}`;
  const pool = createPool({ host: cluster.socketDir, port, user: 'postgres', database: 'postgres', max: 10 });
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    await stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate');
    throw error;
  }
  return {
    url,
    pool,
    dataDir: cluster.dataDir,
    async restart(mode) {
      const pgCtl = join(bin, 'pg_ctl');
      await exec.run(pgCtl, ['restart', '--pgdata', cluster.dataDir, '--mode', mode, '--log', cluster.logFile, '--wait', '--timeout', '120', '--silent'], { asUser: 'postgres', timeoutMs: 130_000 });
    },
    stopServer: (mode) => stopCluster(exec, bin, 'postgres', cluster.dataDir, mode),
    startServer: () => startCluster(exec, bin, 'postgres', cluster),
    async stop() {
      await pool.end();
      await stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate');
    },
  };
}
