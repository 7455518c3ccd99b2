/**
 * Runs jobs on a fixed number of lanes (sessions), pg_restore's parallel scheduling with the
 * loader's jobs: a job starts when every job it waits for has finished and no running job
 * holds a conflicting lock on one of its tables (shared with shared is fine: two index builds
 * on one table; anything with exclusive is not); among those, the heaviest first (the biggest
 * table's work is the longest chain), then the costliest (a wider key sorts longer), then
 * archive order. The first failure stops new starts;
 * the running ones settle before it is thrown.
 */

export interface LaneJob {
  id: number;
  tables: readonly number[];
  exclusive: boolean;
  waitFor: readonly number[];
  weight: number;
  /** Among equal weights, the costlier first. */
  cost: number;
  /** Position in the archive: the tie-break. */
  order: number;
}

function conflicts(job: LaneJob, running: Iterable<LaneJob>): boolean {
  for (const other of running) {
    if ((job.exclusive || other.exclusive) && job.tables.some((table) => other.tables.includes(table))) return true;
  }
  return false;
}

/** The next job to start on a free lane, or null (pure). */
export function nextJob<J extends LaneJob>(pending: readonly J[], done: ReadonlySet<number>, running: readonly LaneJob[]): J | null {
  let best: J | null = null;
  for (const job of pending) {
    if (!job.waitFor.every((id) => done.has(id)) || conflicts(job, running)) continue;
    if (!best || job.weight > best.weight || (job.weight === best.weight && (job.cost > best.cost || (job.cost === best.cost && job.order < best.order)))) best = job;
  }
  return best;
}

/**
 * `run` learns how many lanes stay idle as the job starts (nothing else could start): a job that
 * starts with the others idle may use their cores itself (parallel maintenance workers).
 */
export async function runOnLanes<J extends LaneJob>(jobs: readonly J[], lanes: number, run: (job: J, lane: number, idleLanes: number) => Promise<void>): Promise<void> {
  const known = new Set(jobs.map((job) => job.id));
  const missing = jobs.flatMap((job) => job.waitFor.filter((id) => !known.has(id)).map((id) => `${job.id} waits for ${id}`));
  if (missing.length > 0) throw new Error(`the load plan waits for jobs it does not have: ${missing.join(', ')}`);
  const pending = [...jobs];
  const done = new Set<number>();
  const running = new Map<number, { job: J; finished: Promise<number> }>();
  const free = Array.from({ length: Math.max(1, lanes) }, (_, lane) => lane);
  let failure: { error: unknown } | null = null;
  while (pending.length > 0 || running.size > 0) {
    const starting: { job: J; lane: number }[] = [];
    while (!failure && free.length > 0) {
      const job = nextJob(pending, done, [...running.values(), ...starting].map((entry) => entry.job));
      if (!job) break;
      pending.splice(pending.indexOf(job), 1);
      starting.push({ job, lane: free.shift()! });
    }
    for (const { job, lane } of starting) {
      const finished = run(job, lane, free.length).then(
        () => lane,
        (error: unknown) => {
          failure ??= { error };
          return lane;
        },
      );
      running.set(lane, { job, finished });
    }
    if (running.size === 0) {
      if (failure) break;
      throw new Error(`the load plan cannot go on: ${pending.map((job) => job.id).join(', ')} wait for each other`);
    }
    const lane = await Promise.race([...running.values()].map((entry) => entry.finished));
    const entry = running.get(lane)!;
    running.delete(lane);
    free.push(lane);
    if (!failure) done.add(entry.job.id);
  }
  if (failure) throw (failure as { error: unknown }).error;
}
