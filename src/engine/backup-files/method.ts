/**
 * How `recover backup` reads the source (RECOVER_BACKUP_METHOD):
 *  - files: straight from the data directory (file-backup.ts). Needs the runner on the
 *    database host, able to read the data directory, PostgreSQL 15 or later, a primary, a
 *    role allowed to run pg_backup_start and to read data_directory, and bsdtar.
 *  - stream: pg_basebackup's tar over the replication protocol, from anywhere.
 *  - auto (default): files when all of that holds, else stream, saying why in the log.
 * Forcing files where it cannot work is refused with the reason, never quietly streamed.
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { localSourceSql } from '../sql.js';
import { checkLocalDataDir } from './local-source.js';
import { bsdtarProblem } from '../tar-tool.js';

export type BackupMethodChoice = 'auto' | 'files' | 'stream';
export type BackupMethod = { method: 'files'; dataDir: string } | { method: 'stream'; reason: string };

/** Why a file-level backup cannot be taken here, or the data directory to read. */
async function filesBlocker(ctx: Pick<EngineContext, 'exec' | 'signal'>, client: pg.Client, facts: { systemIdentifier: string; serverVersionNum: number }): Promise<string | { dataDir: string }> {
  if (facts.serverVersionNum < 150000) return `the source runs PostgreSQL ${Math.floor(facts.serverVersionNum / 10000)}, and file-level backups use the PostgreSQL 15 backup functions`;
  let row: { data_directory: string; port: number; start_epoch: number; in_recovery: boolean; may_start_backup: boolean };
  try {
    row = (await client.query(localSourceSql)).rows[0];
  } catch (error) {
    return `the source role cannot read data_directory (${(error as Error).message}); grant it pg_read_all_settings`;
  }
  if (row.in_recovery) return 'the source is a standby';
  if (!row.may_start_backup) return 'the source role may not run pg_backup_start (GRANT EXECUTE ON FUNCTION pg_backup_start, pg_backup_stop)';
  const mismatch = await checkLocalDataDir({ dataDirectory: row.data_directory, systemIdentifier: facts.systemIdentifier, port: row.port, startEpochSeconds: row.start_epoch });
  if (mismatch) return `${row.data_directory} on this runner is not the source's data directory: ${mismatch}`;
  const problem = await bsdtarProblem(ctx);
  if (problem) return `bsdtar does not run on the runner (${problem.message}); install libarchive-tools`;
  return { dataDir: row.data_directory };
}

export async function chooseBackupMethod(
  ctx: Pick<EngineContext, 'exec' | 'signal' | 'log'>,
  choice: BackupMethodChoice,
  client: pg.Client,
  facts: { systemIdentifier: string; serverVersionNum: number },
): Promise<BackupMethod> {
  if (choice === 'stream') return { method: 'stream', reason: 'RECOVER_BACKUP_METHOD=stream' };
  const blocker = await filesBlocker(ctx, client, facts);
  if (typeof blocker !== 'string') return { method: 'files', dataDir: blocker.dataDir };
  if (choice === 'files') {
    throw new RecoverError('BACKUP_FAILED', `A file-level backup (RECOVER_BACKUP_METHOD=files) cannot be taken here: ${blocker}.`, {
      hint: 'Fix that, or set RECOVER_BACKUP_METHOD=auto (or stream) to stream the backup through pg_basebackup.',
    });
  }
  ctx.log.info({ reason: blocker }, 'base backup streams through pg_basebackup (a file-level backup is not possible here)');
  return { method: 'stream', reason: blocker };
}
