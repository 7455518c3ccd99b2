/**
 * The recover CLI's record of database copies (engine/database/copy-records.ts). The CLI is
 * break-glass and needs no control DB: the copies it makes are recorded in files under
 * RECOVER_STATE_DIR on its own disk. A swap typed in the CLI accepts those, and, when
 * RECOVER_CONTROL_URL is set, also the copies runner jobs recorded in the control DB (a copy
 * made from Slack, swapped from a terminal while Slack is down); it only reads the control DB,
 * applies no migrations, and writes its own copies to its files only (a CLI copy has no job,
 * so a Slack swap cannot take it: swap it with the CLI on the host that made it).
 */
import { createPool } from '../engine/pg-client.js';
import { fileCopyRecords } from '../engine/database/copy-record-file.js';
import type { CopyRecords } from '../engine/database/copy-records.js';
import { RecoverError } from '../errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../types.js';
import { controlCopyRecordsOf } from '../runner/copy-records.js';

export function cliCopyRecords(config: Pick<Config, 'stateDir' | 'controlUrl' | 'pool'>, log: Logger): CopyRecords {
  const files = fileCopyRecords(config.stateDir, log);
  const controlUrl = config.controlUrl;
  if (!controlUrl) return files;
  return {
    where: `${files.where} or the control DB (runner pool ${config.pool})`,
    ready: () => files.ready(),
    record: (copy) => files.record(copy),
    async find(query) {
      const own = await files.find(query);
      const control = createPool({ connectionString: controlUrl, max: 1, connectionTimeoutMillis: 10_000 });
      try {
        return [...own, ...(await controlCopyRecordsOf(control, config.pool, query, log))];
      } catch (error) {
        // A control DB from before migration 0009 has no such table: it holds no records.
        if ((error as { code?: string }).code === '42P01') return own;
        if (own.length > 0) {
          log.warn({ err: error }, 'could not read the control DB\'s records of database copies; using this host\'s');
          return own;
        }
        throw new RecoverError('COMMAND_FAILED', `Could not read the control DB's record of verified database copies (RECOVER_CONTROL_URL): ${(error as Error).message}. This host's records (${files.where}) have none of ${query.restoredName}.`, {
          hint: 'Fix the control DB connection, or unset RECOVER_CONTROL_URL to rely on this host\'s records only.',
          cause: error,
        });
      } finally {
        await control.end().catch(() => undefined);
      }
    },
  };
}
