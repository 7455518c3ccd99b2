/**
 * Core types of recover-bot.
 *
 * Glossary
 * - base backup: a physical copy of a cluster (its data files read on the database host
 *   between pg_backup_start and pg_backup_stop, or pg_basebackup's stream), stored under
 *   `daily/<backup-id>/` as tar parts with a manifest (start/stop LSN and time, timeline, checksums).
 * - segment: one 16 MiB WAL file, named TTTTTTTTXXXXXXXXYYYYYYYY (timeline, log, seg).
 * - LSN: a WAL position, written `X/Y` in hex.
 * - recovery target: where PITR stops (time, xid, lsn, named restore point, or
 *   "immediate" = as soon as the backup is consistent); none means replay everything.
 * - restorable window: from the stop time of the oldest usable base backup to the newest
 *   archived WAL, per timeline, minus gaps.
 * - side instance: a new cluster (own data directory and port) that receives a restore,
 *   leaving production untouched. In-place: the restore replaces production's data dir.
 * - spool: a directory on the restored cluster's filesystem where segments are downloaded
 *   ahead of replay; restore_command renames them into pg_wal.
 * - plan: the ordered steps a command will run, shown to people before anything happens;
 *   approvals bind to its digest.
 * - runner: the privileged process that executes plans. bot: the Slack-facing process.
 */

import type { Logger } from 'pino';

export type Lsn = bigint;

export type RecoveryTarget =
  /**
   * `raw`: the target exactly, to the microsecond (normalised by `timeTarget()` in
   * catalog/targets.ts; PostgreSQL, plans and messages use it). `time`: the same instant
   * rounded UP to the millisecond, only for choosing backups and WAL by millisecond
   * timestamps (rounding up can only ask for more WAL). A target built in code from a Date
   * alone may leave `raw` empty; `exactTargetTime()` then uses `time`.
   */
  | { kind: 'time'; time: Date; raw: string }
  | { kind: 'xid'; xid: string }
  | { kind: 'lsn'; lsn: Lsn }
  | { kind: 'name'; name: string }
  | { kind: 'immediate' }
  | { kind: 'latest' };

export type TargetAction = 'promote' | 'pause';

export type Risk = 'read-only' | 'side-copy' | 'destructive';

export interface Step {
  /** Executor key, e.g. `restore-base-backup`. */
  kind: string;
  /** Human title shown in Slack and the CLI. */
  title: string;
  params: Record<string, unknown>;
  destructive: boolean;
  /** Rough expected duration in seconds, for the plan preview. */
  estimateSeconds?: number;
  /** For steps that move bytes (base restore, WAL replay): what `estimateSeconds` was computed from. */
  estimate?: StepEstimate;
}

/**
 * A step's duration as bytes at a rate plus fixed overheads (src/estimate/rates.ts). `samples`
 * says where the rates come from: the median of that many restores measured on this runner
 * pool, or 0 for the documented defaults (not yet measured).
 */
export interface StepEstimate {
  bytes: number;
  bytesPerSecond: number;
  /** Seconds before the bytes start to move (e.g. the server starting). */
  startupSeconds: number;
  /** Seconds after the last byte (e.g. the end-of-recovery checkpoint and promotion). */
  tailSeconds: number;
  samples: number;
  /** With samples 0: the rates were scaled from the runner's start-up probe (src/estimate/calibrate.ts), not the fixed defaults. */
  probed?: true;
  /**
   * When 10 %, 20 % … 90 % of the bytes were done in the measured phases, as shares of their time
   * from start to last byte (null: unknown); present only if measured on phases of a similar size.
   */
  profile?: (number | null)[];
  /**
   * With samples 0 (replay only): the first `bytes` move `pace` times slower than the rest
   * (src/estimate/rates.ts REPLAY_WARMUP), so the ETA does not take a rate observed in them for
   * the whole phase's.
   */
  warmup?: { bytes: number; pace: number };
}

export interface Plan {
  command: string;
  summary: string;
  risk: Risk;
  steps: Step[];
  /** Facts shown with the plan (chosen backup, WAL range, window...). */
  facts: Record<string, string>;
  /** Exactly what the runner will execute with (pinned choices such as the backup id). */
  params?: Record<string, unknown>;
  /** The approval settings of the runner that planned it (control/approval-policy.ts policyStamp): the bot compares its own. */
  approvalPolicy?: PolicyStamp;
  /**
   * Set for plans that act on production's data directory (in place): only a runner on that
   * host (RECOVER_RUNNER_HOST) with that RECOVER_SOURCE_DATA_DIR claims the job. Part of the
   * digest, so the approvers approve where it runs.
   */
  runsOn?: { host: string; dataDir: string };
}

/**
 * A process's approval settings in a form two processes can compare: the digest of all of
 * them, and each setting's own fingerprint (approvers hashed, the numbers as they are: none of
 * it is secret), so a mismatch can name the setting that differs.
 */
export interface PolicyStamp {
  digest: string;
  approvers: string;
  required: Record<Risk, number>;
  ttlMinutes: number;
}

/** Events appended while a job runs; the bot renders them, the CLI prints them. */
export type EngineEvent =
  | { type: 'job.started'; at: string; command: string }
  | { type: 'step.started'; at: string; step: string; title: string }
  | {
      type: 'step.progress';
      at: string;
      step: string;
      done: number;
      total: number | null;
      unit: string;
      rate?: number;
      detail?: string;
    }
  | { type: 'step.finished'; at: string; step: string; seconds: number; detail?: string }
  | { type: 'integrity.report'; at: string; report: unknown }
  /**
   * A long-running operation's serialized poller state (engine/azure/operation.ts), kept with the
   * running step (step_checkpoints.detail, never an event row) so a later job resumes polling it.
   */
  | { type: 'step.state'; at: string; step: string; operation: string; resumeFrom: string }
  | { type: 'job.succeeded'; at: string; result: unknown }
  | { type: 'job.failed'; at: string; code: string; message: string }
  | { type: 'job.cancelled'; at: string };

export interface EventSink {
  emit(event: EngineEvent): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type { Logger };
