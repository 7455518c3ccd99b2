/**
 * A runner with RECOVER_SOURCE_DATA_DIR looks, at start and every few seconds, for the journal
 * an in-place restore leaves beside production's data directory (engine/in-place-journal.ts).
 * One left by a job no runner holds any more (its runner was lost: killed, host rebooted) is
 * rolled back or finished (engine/in-place-recovery.ts), and what was done is recorded on the
 * job (its error and a job.failed event, so the channel sees it).
 */
import type pg from 'pg';
import { recordInPlaceRecovery } from '../control/index.js';
import type { Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import type { InPlaceJournal } from '../engine/in-place-journal.js';
import { processAlive, recoverInterruptedInPlace } from '../engine/in-place-recovery.js';
import type { Logger } from '../types.js';

const JOURNAL_CHECK_MS = 5000;

export interface JournalCheckOptions {
  config: Config;
  control: pg.Pool;
  engine: EngineContext;
  log: Logger;
  runnerId: string;
  /** True while this process runs a job (its own journal is then its job's, not a lost one). */
  busy: () => boolean;
  /** Retries a control-DB write while the control DB is away. */
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}

export function journalCheck(options: JournalCheckOptions): () => Promise<void> {
  const { config, control, log } = options;
  let checkedAt = 0;
  const failureReported = new Set<string>();

  /** Never a journal of a job still held by a runner, or of a live process (another runner, the CLI) on this host. */
  async function mayTouch(journal: InPlaceJournal): Promise<boolean> {
    if (journal.pid === process.pid ? options.busy() : processAlive(journal.pid)) return false;
    if (journal.jobId === null) return true;
    const { rows } = await control.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [journal.jobId]);
    return !rows[0] || !['queued', 'running'].includes(rows[0].status);
  }

  return async () => {
    if (!config.source.dataDir || Date.now() - checkedAt < JOURNAL_CHECK_MS) return;
    checkedAt = Date.now();
    const done = await recoverInterruptedInPlace(options.engine, config, mayTouch).catch((error: unknown) => {
      log.error({ err: error }, 'could not look at or act on an in-place restore journal; trying again later');
      return null;
    });
    if (!done?.journal.jobId) return;
    const jobId = done.journal.jobId;
    // A failure is told once (it is tried again every few seconds); a success once by nature.
    if (!done.ok && failureReported.has(jobId)) return;
    failureReported.add(jobId);
    await options.retry(`record what was done for job ${jobId}`, () => recordInPlaceRecovery(control, { jobId, runnerId: options.runnerId, message: done.message }));
  };
}
