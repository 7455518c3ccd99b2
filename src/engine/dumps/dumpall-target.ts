/**
 * The server a dumpall goes to: `production` (RECOVER_SOURCE_URL; only ever with a rename
 * suffix, enforced by the command) or a running side instance this tool created (checked by
 * openSideInstance: a directory that is not one, or production behind it, is refused).
 */
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { pgClientConfig } from '../../util/connection-url.js';
import { sideInstanceConnection } from '../instances.js';
import type { Storage } from '../../storage/blob-store.js';
import { createHash } from 'node:crypto';
import type { DumpallTarget } from './dumpall.js';
import { dumpDirectory, type DumpManifest } from './manifest.js';
import { sourceConnection } from './take.js';

export const PRODUCTION_TARGET = 'production';

export async function resolveDumpallTarget(config: Pick<Config, 'source' | 'restoreRoot' | 'pg'>, name: string): Promise<DumpallTarget> {
  if (name === PRODUCTION_TARGET) {
    const source = sourceConnection(config);
    return { name, connection: pgClientConfig(source, 'postgres'), tool: { host: source.host, port: source.port, user: source.user }, toolEnv: source.password ? { PGPASSWORD: source.password } : {} };
  }
  const connection = await sideInstanceConnection(config, name);
  return { name, connection, tool: { host: String(connection.host), port: Number(connection.port), user: String(connection.user) }, toolEnv: {} };
}

/** The run's globals.sql (stored beside each dump of the run), checked against the first manifest's sha256. */
export async function readRunGlobals(storage: Pick<Storage, 'dumps'>, manifest: DumpManifest): Promise<string> {
  const file = manifest.files.find((entry) => entry.name === 'globals.sql');
  if (!file) throw new RecoverError('BACKUP_CORRUPT', `Dump ${manifest.database}/${manifest.stamp} has no globals.sql in its manifest.`, { hint: 'Take a new dump with recover dump-backup.' });
  const bytes = await readStreamToBuffer(await storage.dumps.getStream(`${dumpDirectory(manifest.database, manifest.stamp)}globals.sql`));
  if (createHash('sha256').update(bytes).digest('hex') !== file.sha256) {
    throw new RecoverError('BACKUP_CORRUPT', `globals.sql of dump ${manifest.database}/${manifest.stamp} does not match the sha256 in its manifest. Nothing was created.`, { hint: 'Use another run: recover backups lists the dumps.' });
  }
  return bytes.toString('utf8');
}
