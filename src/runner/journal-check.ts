/**
 * A runner looks, at start and every few seconds, for what a job whose runner was lost left on
 * this host, by the journals jobs write (never by guessing):
 * - the in-place journal beside production's data directory (RECOVER_SOURCE_DATA_DIR;
 *   engine/in-place-journal.ts): the restore is rolled back or finished
 *   (engine/in-place-recovery.ts);
 * - the work journal of a restore (engine/work-journal.ts) in a side instance or beside the
 *   data directory: the half-restored side server is stopped and the WAL spool, hook and
 *   socket removed (engine/work-tidy.ts); a succeeded job's journal (its files' removal failed
 *   at the end) only loses its files: its server is the restore's result and is not stopped,
 *   and its thread is not told the job failed.
 * Only journals of jobs no runner holds any more, written by processes no longer alive. What
 * was done is recorded on the job (its error and a job.failed event, so the channel sees it).
 */
import type pg from 'pg';
import { recordLostJobRecovery } from '../control/index.js';
import type { Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import { processAlive, recoverInterruptedInPlace } from '../engine/in-place-recovery.js';
import { tidyLostWork, type WorkVerdict } from '../engine/work-tidy.js';
import type { Logger } from '../types.js';

const JOURNAL_CHECK_MS = 5000;

export interface JournalCheckOptions {
  config: Config;
  control: pg.Pool;
  engine: EngineContext;
  log: Logger;
  runnerId: string;
  /** True while this process runs a job (its own journals are then its job's, not a lost one's). */
  busy: () => boolean;
  /** Retries a control-DB write while the control DB is away. */
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}

type Done = { jobId: string | null; ok: boolean; message: string; action: 'job.in_place_recovered' | 'job.work_tidied' };

export function journalCheck(options: JournalCheckOptions): () => Promise<void> {
  const { config, control, log } = options;
  let checkedAt = 0;
  const failureReported = new Set<string>();

  /** Never a journal of a job still held by a runner, or of a live process (another runner, the CLI) on this host. */
  async function judge(journal: { pid: number; jobId: string | null }): Promise<WorkVerdict> {
    if (journal.pid === process.pid ? options.busy() : processAlive(journal.pid)) return 'leave';
    if (journal.jobId === null) return 'lost';
    const { rows } = await control.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [journal.jobId]);
    const status = rows[0]?.status;
    if (status === 'queued' || status === 'running') return 'leave';
    // Its restore finished (only removing its files failed at the end): the server is the result.
    return status === 'succeeded' ? 'finished' : 'lost';
  }
  const mayTouch = async (journal: { pid: number; jobId: string | null }) => (await judge(journal)) !== 'leave';

  async function record(done: Done): Promise<void> {
    if (!done.jobId) return;
    const jobId = done.jobId;
    // A failure is told once per job and kind (it is tried again every few seconds); a success once by nature.
    const key = `${done.action}:${jobId}`;
    if (!done.ok && failureReported.has(key)) return;
    failureReported.add(key);
    await options.retry(`record what was done for job ${jobId}`, () => recordLostJobRecovery(control, { jobId, runnerId: options.runnerId, message: done.message, action: done.action }));
  }

  return async () => {
    if (Date.now() - checkedAt < JOURNAL_CHECK_MS) return;
    checkedAt = Date.now();
    const failed = (what: string) => (error: unknown) => {
      log.error({ err: error }, `could not look at or act on ${what}; trying again later`);
      return null;
    };
    // Production first: an in-place roll-back may need what the work directory holds until it is done.
    if (config.source.dataDir) {
      const done = await recoverInterruptedInPlace(options.engine, config, mayTouch).catch(failed('an in-place restore journal'));
      if (done) await record({ jobId: done.journal.jobId, ok: done.ok, message: done.message, action: 'job.in_place_recovered' });
    }
    const tidied = await tidyLostWork(options.engine, config, judge).catch(failed('the work journals of restores'));
    for (const done of (tidied ?? []).filter((t) => t.notify)) await record({ jobId: done.journal.jobId, ok: done.ok, message: done.message, action: 'job.work_tidied' });
  };
}
