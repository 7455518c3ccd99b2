/**
 * `recover expire [--dry-run] [--json]`: apply the retention policy (RECOVER_RETENTION_FULL,
 * RECOVER_RETENTION_DAYS) to the backup storage now, as the runner's schedule does after each
 * backup. CLI only, not a /recover word: deleting backups is storage housekeeping the schedule
 * does, not something to click in an incident channel. `--dry-run` prints what would go and what
 * is kept and why. When the control DB is configured the deletions are recorded in its audit
 * log; otherwise the log and this output are the record.
 */
import { hostname, userInfo } from 'node:os';
import { retentionLines } from '../../commands/retention-view.js';
import { appendAudit } from '../control/audit.js';
import { EXPIRE_AUDIT_ACTION, expireAuditDetails, expireBackups, type ExpireResult } from '../engine/retention/expire.js';
import { createPool } from '../engine/pg-client.js';
import { RecoverError, type ErrorCode } from '../errors.js';
import type { Logger } from '../types.js';
import { createRuntime, printFailure, printResult, type CliIo } from './runtime.js';

export function formatExpire(result: ExpireResult): string {
  const { deleted } = result;
  const head = result.dryRun
    ? 'Dry run: nothing was deleted. `recover expire` would:'
    : `Deleted ${deleted.backups.length} base backup(s), ${deleted.incomplete.length} interrupted upload(s) and ${deleted.walFiles.length} WAL file(s) (${deleted.blobs} blobs).`;
  return [head, ...retentionLines(result.plan, { done: !result.dryRun && result.failure === null })].join('\n');
}

async function audit(controlUrl: string, pool: string, result: ExpireResult, log: Logger): Promise<void> {
  const control = createPool({ connectionString: controlUrl, max: 1, connectionTimeoutMillis: 10_000 });
  try {
    await appendAudit(control, { actor: `cli:${userInfo().username}@${hostname()}`, action: EXPIRE_AUDIT_ACTION, subject: `pool:${pool}`, details: expireAuditDetails(result) });
  } catch (error) {
    // The deletions happened: say so, rather than hide them behind an audit failure.
    log.error({ err: error, deleted: expireAuditDetails(result) }, 'could not record the expire in the control DB audit log');
  } finally {
    await control.end().catch(() => undefined);
  }
}

export async function runExpire(io: CliIo, options: { dryRun: boolean; json: boolean }, setExitCode: (code: number) => void): Promise<void> {
  const runtime = await createRuntime(io, { json: options.json });
  const { config, context, log } = runtime;
  process.once('SIGINT', () => runtime.abort.abort());
  const result = await expireBackups(context, config.retention ?? {}, { dryRun: options.dryRun });
  const deletedAny = result.deleted.blobs > 0;
  if (deletedAny && config.controlUrl) await audit(config.controlUrl, config.pool, result, log);
  if (result.failure) {
    if (!options.json) io.stdout.write(`${formatExpire(result)}\n`);
    const failure = new RecoverError(result.failure.code as ErrorCode, result.failure.message, result.failure.hint ? { hint: result.failure.hint } : {});
    setExitCode(printFailure(io, options.json, failure, result));
    return;
  }
  printResult(io, options.json, result, () => formatExpire(result));
}
