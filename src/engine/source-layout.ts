/**
 * Where a cluster keeps its configuration, and the side instance's own configuration files.
 *
 * Two layouts are common: initdb's, with postgresql.conf, pg_hba.conf and pg_ident.conf in the
 * data directory, and Debian/Ubuntu's packages', with them under /etc/postgresql/<ver>/<cluster>
 * (config_file, hba_file, ident_file outside data_directory). A base backup holds only the data
 * directory, so a restore can never rely on finding these files in it:
 * - a side instance always gets its own minimal files (sideConfFiles), whichever the layout;
 * - production restored in place is started with `-c config_file=…` when its configuration lives
 *   elsewhere (startOptionsFor), learned from the running server before it is stopped or else
 *   from the backup's manifest (recorded by `recover backup`, readSourceLayout).
 */
import { rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { BackupManifest } from '../catalog/catalog.js';
import type { Exec } from './exec.js';
import { appendConf, exists, writeOwnedFile } from './local-cluster.js';
import { renderConf } from './pg-settings.js';

export type SourceLayout = NonNullable<BackupManifest['sourceLayout']>;
type Owner = { uid: number; gid: number } | undefined;

/**
 * Settings of the source carried into a side instance's own postgresql.conf: libraries the
 * restored databases' extensions may need loaded, and how values read as text (time zone,
 * date style, text search). Never the source's paths, ports, archiving, SSL or logging.
 */
export const CARRIED_SETTINGS = ['shared_preload_libraries', 'timezone', 'datestyle', 'intervalstyle', 'default_text_search_config', 'lc_monetary', 'lc_numeric', 'lc_time'] as const;

const FILE_SETTINGS = { data_directory: 'dataDirectory', config_file: 'configFile', hba_file: 'hbaFile', ident_file: 'identFile' } as const;

/** pg_settings hides the file settings from roles without pg_read_all_settings: they are then simply absent. */
export const sourceLayoutSql = 'SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])';

/** The rows of sourceLayoutSql as a manifest's sourceLayout (pure). */
export function sourceLayoutFromRows(rows: { name: string; setting: string | null }[]): SourceLayout {
  const layout: SourceLayout = {};
  const settings: Record<string, string> = {};
  for (const { name, setting } of rows) {
    if (setting === null) continue;
    if (name in FILE_SETTINGS) layout[FILE_SETTINGS[name as keyof typeof FILE_SETTINGS]] = setting;
    else if ((CARRIED_SETTINGS as readonly string[]).includes(name) && setting !== '') settings[name] = setting;
  }
  if (Object.keys(settings).length > 0) layout.settings = settings;
  return layout;
}

export async function readSourceLayout(client: pg.Client): Promise<SourceLayout> {
  const { rows } = await client.query<{ name: string; setting: string | null }>(sourceLayoutSql, [[...Object.keys(FILE_SETTINGS), ...CARRIED_SETTINGS]]);
  return sourceLayoutFromRows(rows);
}

/**
 * The config_file production must be started with, or undefined when PostgreSQL finds it by
 * itself (postgresql.conf in the data directory, or nothing known) (pure).
 */
export function configFileOutside(layout: Pick<SourceLayout, 'configFile'> | undefined, dataDir: string): string | undefined {
  const configFile = layout?.configFile;
  if (!configFile) return undefined;
  return resolve(configFile) === join(resolve(dataDir), 'postgresql.conf') ? undefined : configFile;
}

/**
 * Parameters pg_control records (as of the backup's checkpoint) that a server replaying its WAL
 * with hot_standby must have at least as high as the source had, else recovery stops: read
 * from pg_controldata's output (pure).
 */
export function controlParameters(controldata: string): Record<string, string> {
  const names: Record<string, string> = {
    max_connections: 'max_connections',
    max_worker_processes: 'max_worker_processes',
    max_wal_senders: 'max_wal_senders',
    max_prepared_xacts: 'max_prepared_transactions',
    max_locks_per_xact: 'max_locks_per_transaction',
  };
  const found: Record<string, string> = {};
  for (const line of controldata.split('\n')) {
    const match = /^(\w+) setting:\s+(\d+)\s*$/.exec(line.trim());
    if (match && names[match[1]!]) found[names[match[1]!]!] = match[2]!;
  }
  return found;
}

export const SIDE_CONF_HEADER = 'recover-bot side instance: its own configuration, not the source\'s';
export const SIDE_FILES_HEADER = 'recover-bot side instance: its own access files';

/**
 * A side instance's own postgresql.conf, pg_hba.conf and pg_ident.conf (pure). Where it listens,
 * archiving off and the recovery settings go into postgresql.auto.conf (recoverySettings), read
 * last. pg_hba trusts local socket connections only: the socket directory is private to the
 * postgres OS user (and root, the runner), so only they can reach it; on 127.0.0.1 a role's own
 * password is asked (md5 also takes SCRAM secrets), never trust.
 */
export function sideConfFiles(input: { control: Record<string, string>; carried?: Record<string, string> | undefined }): Record<'postgresql.conf' | 'pg_hba.conf' | 'pg_ident.conf', string> {
  const carried = Object.fromEntries(Object.entries(input.carried ?? {}).filter(([name]) => (CARRIED_SETTINGS as readonly string[]).includes(name)));
  return {
    'postgresql.conf': `# written by recover-bot for a side instance; the backup's own files, if any, are kept as *.from-backup${renderConf({ ...carried, ...input.control }, SIDE_CONF_HEADER)}`,
    'pg_hba.conf': [
      '# written by recover-bot for a side instance',
      '# trust on its Unix socket only: the socket directory is private to the postgres OS user and root (the runner)',
      'local all all trust',
      '# on 127.0.0.1 (where it listens) only with a role password restored from the backup',
      'host all all 127.0.0.1/32 md5',
      '',
    ].join('\n'),
    'pg_ident.conf': '# written by recover-bot: no user name maps\n',
  };
}

/**
 * Gives a restored side data directory its own configuration files, whether or not the backup
 * held any (the backup's are renamed *.from-backup for people to read), and pins hba_file and
 * ident_file to them (postgresql.auto.conf could name others).
 */
export async function writeSideConfig(exec: Exec, bin: string, osUser: string, dataDir: string, owner: Owner, recorded: SourceLayout | undefined): Promise<void> {
  const { stdout } = await exec.run(join(bin, 'pg_controldata'), [dataDir], { asUser: osUser, timeoutMs: 60_000 });
  const files = sideConfFiles({ control: controlParameters(stdout), carried: recorded?.settings });
  for (const [name, text] of Object.entries(files)) {
    const path = join(dataDir, name);
    if (await exists(path)) await rename(path, `${path}.from-backup`);
    await writeOwnedFile(path, text, owner);
  }
  await appendConf(dataDir, { hba_file: join(dataDir, 'pg_hba.conf'), ident_file: join(dataDir, 'pg_ident.conf') }, SIDE_FILES_HEADER);
}
