/**
 * Measured restore rates per runner pool (table `measured_rates`, migrations 0007 and 0008): the runner
 * appends one row per finished measured phase of a job; planning reads the newest ones. The
 * arithmetic (what a sample is, medians, estimates) is in src/estimate/, not here.
 */
import { queryRows, type Db } from './db.js';

export interface RateSampleRecord {
  phase: string;
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  startupSeconds: number;
  tailSeconds: number;
  /** Shares of the phase's time at each tenth of its bytes (src/estimate/profile.ts); null: unknown. */
  profile: readonly (number | null)[] | null;
}

interface RateRow {
  phase: string;
  bytes: string;
  seconds: number;
  bytes_per_second: number;
  startup_seconds: number;
  tail_seconds: number;
  profile: readonly (number | null)[] | null;
}

/** Records a phase of a job; its pool is the job's. A second sample of the same phase and job is ignored. */
export async function recordRateSample(db: Db, jobId: string, sample: RateSampleRecord): Promise<void> {
  await queryRows(
    db,
    `INSERT INTO measured_rates (pool, job_id, phase, bytes, seconds, bytes_per_second, startup_seconds, tail_seconds, profile)
     SELECT pool, id, $2, $3, $4, $5, $6, $7, $8 FROM jobs WHERE id = $1
     ON CONFLICT (job_id, phase) DO NOTHING`,
    [jobId, sample.phase, Math.round(sample.bytes), sample.seconds, sample.bytesPerSecond, sample.startupSeconds, sample.tailSeconds, sample.profile],
  );
}

/** The newest `perPhase` samples of each phase measured in a pool, newest first. */
export async function recentRateSamples(db: Db, pool: string, perPhase: number): Promise<RateSampleRecord[]> {
  const rows = await queryRows<RateRow>(
    db,
    `SELECT phase, bytes, seconds, bytes_per_second, startup_seconds, tail_seconds, profile
       FROM (SELECT *, row_number() OVER (PARTITION BY phase ORDER BY id DESC) AS n FROM measured_rates WHERE pool = $1) recent
      WHERE n <= $2
      ORDER BY id DESC`,
    [pool, perPhase],
  );
  return rows.map((row) => ({
    phase: row.phase,
    bytes: Number(row.bytes),
    seconds: row.seconds,
    bytesPerSecond: row.bytes_per_second,
    startupSeconds: row.startup_seconds,
    tailSeconds: row.tail_seconds,
    profile: row.profile,
  }));
}
