/**
 * What /metrics reads from the control DB at scrape time (metrics/registry.ts): jobs by command
 * and state, approvals waiting, the newest measured restore and replay rates, the RPO watch's
 * last look per production, and each pool's newest restore drill (its result, when it ended,
 * and the RTO of the newest drill that passed). Small aggregate queries; nothing is written.
 */
import { queryRows, type Db } from './db.js';

export interface MetricsFacts {
  jobs: Array<{ command: string; status: string; count: number }>;
  approvalsWaiting: Array<{ command: string; count: number }>;
  rates: Array<{ pool: string; phase: string; bytesPerSecond: number }>;
  rpo: Array<{ pool: string; production: string; state: string; exposureSeconds: number | null }>;
  drills: Array<{ pool: string; ok: boolean; finishedAt: number; lastRtoSeconds: number | null }>;
}

export async function readMetricsFacts(db: Db): Promise<MetricsFacts> {
  const [jobs, approvalsWaiting, rates, rpo, drills] = await Promise.all([
    queryRows<MetricsFacts['jobs'][number]>(db, 'SELECT r.command, j.status, count(*)::int AS count FROM jobs j JOIN requests r ON r.id = j.request_id GROUP BY 1, 2'),
    // Asked for and not yet decided: a request waiting for approvers' votes.
    queryRows<MetricsFacts['approvalsWaiting'][number]>(db, "SELECT command, count(*)::int AS count FROM requests WHERE status = 'pending' AND approval_requested_at IS NOT NULL GROUP BY 1"),
    queryRows<MetricsFacts['rates'][number]>(db, 'SELECT DISTINCT ON (pool, phase) pool, phase, bytes_per_second AS "bytesPerSecond" FROM measured_rates ORDER BY pool, phase, id DESC'),
    queryRows<MetricsFacts['rpo'][number]>(db, 'SELECT pool, production, state, exposure_seconds AS "exposureSeconds" FROM rpo_alerts'),
    // Per pool (index restore_drills_pool_time): the newest drill, and the newest that measured an RTO.
    queryRows<MetricsFacts['drills'][number]>(db, `
      SELECT DISTINCT ON (pool) pool, ok, extract(epoch FROM finished_at)::float8 AS "finishedAt",
        (SELECT p.rto_seconds FROM restore_drills p WHERE p.pool = d.pool AND p.ok AND p.rto_seconds IS NOT NULL ORDER BY p.requested_at DESC, p.id DESC LIMIT 1) AS "lastRtoSeconds"
      FROM restore_drills d ORDER BY pool, requested_at DESC, id DESC`),
  ]);
  return { jobs, approvalsWaiting, rates, rpo, drills };
}
