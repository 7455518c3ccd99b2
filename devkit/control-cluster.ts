/**
 * A throwaway control database for the demo and benchmarks: its own cluster on a free port
 * (the control DB must survive the disaster being recovered, so it never shares production's).
 */
import { join } from 'node:path';
import type pg from 'pg';
import { migrate } from '../src/control/index.js';
import type { Exec } from '../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { createPool } from '../src/engine/pg-client.js';

export interface ControlCluster {
  url: string;
  pool: pg.Pool;
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
    async stop() {
      await pool.end();
      await stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate');
    },
  };
}
