/**
 * A "production" cluster laid out like Debian/Ubuntu's PostgreSQL packages, for tests: made with
 * pg_createcluster, so postgresql.conf, pg_hba.conf and pg_ident.conf live under
 * /etc/postgresql/<version>/<name>, outside the data directory, and started with pg_ctlcluster as
 * the packages do. It archives through the sandbox's WAL hook and agent (settings in its conf.d).
 * `drop()` stops and removes it (pg_dropcluster --stop), configuration included; call it even
 * when a test failed, before the sandbox's cleanup.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { freePort, makeOwnedDir, withClient, type ClusterHandle } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { renderConf } from '../src/engine/pg-settings.js';
import { hookCommands } from '../src/wal/hook-commands.js';
import type { Sandbox } from './sandbox.js';

export interface DebianCluster extends ClusterHandle {
  version: string;
  name: string;
  /** /etc/postgresql/<version>/<name>/postgresql.conf */
  configFile: string;
  url: string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createDebianCluster(sandbox: Sandbox, version = '15'): Promise<DebianCluster> {
  const owner = await ownerFor('postgres');
  const name = `rbtest-${randomBytes(4).toString('hex')}`;
  const base = join(sandbox.root, 'debian');
  const dataDir = join(base, 'data');
  const socketDir = join(base, 'run');
  await makeOwnedDir(base, owner);
  await makeOwnedDir(socketDir, owner);
  const port = await freePort();
  const configDir = join('/etc/postgresql', version, name);
  const confFile = join(configDir, 'conf.d', 'recover-test.conf');
  // pg_dropcluster leaves a directory holding a file it did not make: this test's file goes first.
  const drop = async () => {
    await rm(confFile, { force: true });
    await sandbox.exec.run('pg_dropcluster', ['--stop', version, name], { timeoutMs: 120_000 });
  };
  await sandbox.exec.run('pg_createcluster', [version, name, '-p', String(port), '-d', dataDir, '-s', socketDir, '--', '--auth=trust'], { timeoutMs: 120_000 });
  try {
    const hookPath = join(sandbox.root, 'agent', 'wal-hook.mjs');
    const settings = {
      listen_addresses: '127.0.0.1',
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: hookCommands({ nodePath: process.execPath, hookPath, socketPath: sandbox.config.walAgentSocket }).archiveCommand,
      max_wal_senders: '4',
      fsync: 'off',
    };
    await writeFile(confFile, renderConf(settings, 'recover-bot test: archiving like the sandbox'), { mode: 0o644 });
    await sandbox.exec.run('pg_ctlcluster', [version, name, 'start'], { timeoutMs: 120_000 });
    const handle = { dataDir, port, socketDir, logFile: join('/var/log/postgresql', `postgresql-${version}-${name}.log`) };
    return {
      ...handle,
      version,
      name,
      configFile: join(configDir, 'postgresql.conf'),
      url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}&port=${port}`,
      query: async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') => withClient(handle, database, async (client) => (await client.query<T>(sql, params)).rows),
      drop,
    };
  } catch (error) {
    await drop().catch(() => undefined);
    throw error;
  }
}
