/**
 * Everything `recover disk` reports, read on production's database host whether the server is
 * up or down: files first (pg_controldata, pg_wal and archive_status, pg_replslot, temporary
 * files, the server log), the server's own views when it answers (pg_stat_archiver, slots,
 * relation sizes), and the WAL archive's listing when storage answers. Reads only.
 */
import { open, readdir, readFile, lstat, stat, statfs } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import type { EngineContext } from '../context.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { listDatabasesSql } from '../sql.js';
import { confSetting, logEvidence, mountOf, parseControlData, type ControlFacts, type LogEvidence } from './parse.js';
import { serverState, startConfigFile, type ServerState } from './server.js';
import { readSlotFiles, slotsFromServer, type SlotFacts } from './slots.js';
import { archivedSegments, readWalState, type WalFile } from './wal-files.js';
import type { ArchiveState } from './removal.js';

export interface FilesystemUsage {
  holds: string[];
  path: string;
  mount: string | null;
  totalBytes: number;
  availableBytes: number;
}

export interface ArchiverFacts {
  /** pg_stat_archiver's counters when the server answers (null when down). */
  stats: { lastArchivedWal: string | null; lastArchivedTime: string | null; failedCount: number; lastFailedWal: string | null; lastFailedTime: string | null } | null;
  log: LogEvidence | null;
  logFiles: string[];
}

export interface DiskFacts {
  dataDir: string;
  walDir: string;
  filesystems: FilesystemUsage[];
  server: ServerState;
  control: ControlFacts;
  wal: { segments: WalFile[]; status: [string, ArchiveState][]; readySince: [string, string][]; otherBytes: number };
  archive: { reachable: true; archived: string[] } | { reachable: false; error: string };
  archiver: ArchiverFacts;
  slots: SlotFacts[];
  /** pg_current_wal_lsn() when the server answers as a primary. */
  currentLsn: string | null;
  temp: { files: number; bytes: number };
  logs: { dir: string | null; files: { name: string; bytes: number; modified: string }[] };
  relations: { name: string; bytes: number }[];
}

export type DiskConfig = Pick<Config, 'pg' | 'source'>;

export function sourceConnection(config: DiskConfig): TargetConnection | null {
  return config.source.url ? pgClientConfig(parseConnectionUrl(config.source.url), 'postgres') : null;
}

export async function readControl(ctx: EngineContext, config: DiskConfig, dataDir: string): Promise<ControlFacts> {
  const { stdout } = await ctx.exec.run(join(config.pg.bin, 'pg_controldata'), [dataDir], { asUser: config.pg.osUser, env: { LC_ALL: 'C', LANG: 'C' }, timeoutMs: 60_000 });
  const control = parseControlData(stdout);
  if (!control) throw new RecoverError('COMMAND_FAILED', `pg_controldata ${dataDir} did not give the latest checkpoint's REDO WAL file; nothing can be judged safe to remove.`, { hint: 'Run it by hand to see why (a damaged pg_control is /recover crash territory).' });
  return control;
}

export async function filesystemUsage(paths: readonly { path: string; holds: string }[]): Promise<FilesystemUsage[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const byDevice = new Map<number, FilesystemUsage>();
  for (const { path, holds } of paths) {
    const device = (await stat(path)).dev;
    const known = byDevice.get(device);
    if (known) {
      known.holds.push(holds);
      continue;
    }
    const fs = await statfs(path);
    byDevice.set(device, { holds: [holds], path, mount: mountOf(path, mounts), totalBytes: fs.blocks * fs.bsize, availableBytes: fs.bavail * fs.bsize });
  }
  return [...byDevice.values()];
}

/** Files under every pgsql_tmp directory (base/ and each tablespace's). */
export async function tempDirectories(dataDir: string): Promise<string[]> {
  const dirs = [join(dataDir, 'base', 'pgsql_tmp')];
  for (const space of await readdir(join(dataDir, 'pg_tblspc')).catch(() => [] as string[])) {
    for (const version of await readdir(join(dataDir, 'pg_tblspc', space)).catch(() => [] as string[])) dirs.push(join(dataDir, 'pg_tblspc', space, version, 'pgsql_tmp'));
  }
  return dirs;
}

async function treeSize(path: string): Promise<{ files: number; bytes: number }> {
  const stats = await lstat(path).catch(() => null);
  if (!stats) return { files: 0, bytes: 0 };
  if (!stats.isDirectory()) return { files: 1, bytes: stats.size };
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(path)) {
    const inner = await treeSize(join(path, entry));
    files += inner.files;
    bytes += inner.bytes;
  }
  return { files, bytes };
}

/** The server log directory: the running server's log_directory, else the configuration files', else PostgreSQL's default `log`. */
async function logDirectory(dataDir: string, connection: TargetConnection | null, running: boolean): Promise<string> {
  let setting: string | null = null;
  if (running && connection) setting = await withTargetClient(connection, async (c) => (await c.query<{ d: string }>("SELECT current_setting('log_directory') AS d")).rows[0]!.d).catch(() => null);
  if (!setting) {
    const configFile = (await startConfigFile(dataDir)) ?? join(dataDir, 'postgresql.conf');
    const texts = await Promise.all([configFile, join(dataDir, 'postgresql.auto.conf')].map((f) => readFile(f, 'utf8').catch(() => '')));
    setting = confSetting(texts[1]!, 'log_directory') ?? confSetting(texts[0]!, 'log_directory');
  }
  const dir = setting ?? 'log';
  return isAbsolute(dir) ? dir : join(dataDir, dir);
}

export async function listLogs(dir: string): Promise<DiskFacts['logs']['files']> {
  const files: DiskFacts['logs']['files'] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const stats = await lstat(join(dir, name)).catch(() => null);
    if (stats?.isFile()) files.push({ name, bytes: stats.size, modified: stats.mtime.toISOString() });
  }
  return files.sort((a, b) => (a.modified < b.modified ? -1 : 1));
}

/** The last 2 MiB of a file (the newest lines of a server log). */
async function tail(path: string, bytes = 2 * 1024 * 1024): Promise<string> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

async function archiverStats(connection: TargetConnection): Promise<ArchiverFacts['stats']> {
  const sql = `SELECT last_archived_wal, last_archived_time::text AS last_archived_time, failed_count::int AS failed_count, last_failed_wal, last_failed_time::text AS last_failed_time FROM pg_stat_archiver`;
  const row = await withTargetClient(connection, async (c) => (await c.query(sql)).rows[0]);
  return { lastArchivedWal: row.last_archived_wal, lastArchivedTime: row.last_archived_time, failedCount: row.failed_count, lastFailedWal: row.last_failed_wal, lastFailedTime: row.last_failed_time };
}

/** The biggest relations: by pg_total_relation_size in each database when the server answers, else by relfilenode files under base/. */
async function biggestRelations(dataDir: string, connection: TargetConnection | null): Promise<DiskFacts['relations']> {
  if (connection) {
    const sql = `SELECT n.nspname || '.' || c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') ORDER BY 2 DESC LIMIT 5`;
    const databases = await withTargetClient(connection, async (c) => (await c.query<{ datname: string }>(listDatabasesSql)).rows.map((r) => r.datname));
    const all: DiskFacts['relations'] = [];
    for (const db of databases.slice(0, 20)) {
      const rows = await withTargetClient({ ...connection, database: db }, async (c) => (await c.query<{ name: string; bytes: string }>(sql)).rows).catch(() => []);
      all.push(...rows.map((r) => ({ name: `${db}: ${r.name}`, bytes: Number(r.bytes) })));
    }
    return all.sort((a, b) => b.bytes - a.bytes).slice(0, 10);
  }
  const sizes = new Map<string, number>();
  for (const db of await readdir(join(dataDir, 'base')).catch(() => [] as string[])) {
    if (!/^\d+$/.test(db)) continue;
    for (const file of await readdir(join(dataDir, 'base', db)).catch(() => [] as string[])) {
      const node = /^(\d+)/.exec(file)?.[1];
      if (!node || Number(node) < 16384) continue; // below: the system catalogs' own files
      const stats = await lstat(join(dataDir, 'base', db, file)).catch(() => null);
      if (stats?.isFile()) sizes.set(`base/${db}/${node}`, (sizes.get(`base/${db}/${node}`) ?? 0) + stats.size);
    }
  }
  return [...sizes].map(([name, bytes]) => ({ name: `${name} (a relfilenode: names need the server up)`, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, 10);
}

export async function inspectDisk(ctx: EngineContext, config: DiskConfig, dataDir: string): Promise<DiskFacts> {
  const connection = sourceConnection(config);
  const server = await serverState(dataDir, connection, ctx.log);
  const answering = server.state === 'running' ? connection : null;
  const primary = server.state === 'running' && !server.inRecovery ? connection : null;
  const [control, wal] = await Promise.all([readControl(ctx, config, dataDir), readWalState(dataDir)]);
  const filesystems = await filesystemUsage([{ path: dataDir, holds: 'data directory' }, { path: wal.dir, holds: 'pg_wal' }]);
  let archive: DiskFacts['archive'];
  try {
    archive = { reachable: true, archived: [...(await archivedSegments(ctx.storage, wal.segments))] };
  } catch (error) {
    archive = { reachable: false, error: (error as Error).message.split('\n')[0]!.replace(/\.$/, '') };
  }
  const slots = answering ? await slotsFromServer(answering) : await readSlotFiles(dataDir);
  const logDir = await logDirectory(dataDir, connection, Boolean(answering));
  const logs = await listLogs(logDir);
  const logFiles = [...logs.slice(-2).map((f) => join(logDir, f.name)), `${dataDir}.recover/server.log`];
  const logText = (await Promise.all(logFiles.map((f) => tail(f)))).join('\n');
  const temps = await Promise.all((await tempDirectories(dataDir)).map((dir) => treeSize(dir)));
  return {
    dataDir,
    walDir: wal.dir,
    filesystems,
    server,
    control,
    wal: { segments: wal.segments, status: [...wal.status], readySince: [...wal.readySince], otherBytes: wal.otherBytes },
    archive,
    archiver: { stats: answering ? await archiverStats(answering).catch(() => null) : null, log: logText ? logEvidence(logText) : null, logFiles: logFiles.filter((_, i) => i < logFiles.length - 1 || logText.length > 0) },
    slots,
    currentLsn: primary ? await withTargetClient(primary, async (c) => (await c.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l).catch(() => null) : null,
    temp: { files: temps.reduce((s, t) => s + t.files, 0), bytes: temps.reduce((s, t) => s + t.bytes, 0) },
    logs: { dir: logs.length > 0 ? logDir : null, files: logs },
    relations: await biggestRelations(dataDir, answering).catch(() => []),
  };
}
