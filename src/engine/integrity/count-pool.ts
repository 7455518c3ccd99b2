/**
 * Runs per-table work in at most `parallel` sessions at once (each opened once and reused for
 * the tables it takes), under a deadline: a table not started before the deadline, or whose
 * statement was cancelled after it passed, is `skipped` rather than failed. The clock and the
 * sessions are given, so tests drive it without a database.
 */
export interface PoolOptions<S, I, R> {
  parallel: number;
  /** ms on `now`'s clock. */
  deadline: number;
  now: () => number;
  /** Opens one session for a worker and closes it after `use`. */
  session: (use: (session: S) => Promise<void>) => Promise<void>;
  /** One item's work; remainingMs bounds its statements. */
  run: (session: S, item: I, remainingMs: number) => Promise<R>;
}

export type PoolOutcome<R> = { kind: 'done'; value: R } | { kind: 'failed'; error: unknown } | { kind: 'skipped' };

export async function runPool<S, I, R>(items: readonly I[], options: PoolOptions<S, I, R>): Promise<PoolOutcome<R>[]> {
  const outcomes: (PoolOutcome<R> | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  let openError: unknown;
  const worker = async (session: S): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const remaining = options.deadline - options.now();
      if (remaining <= 0) {
        outcomes[index] = { kind: 'skipped' };
        continue;
      }
      try {
        outcomes[index] = { kind: 'done', value: await options.run(session, items[index]!, remaining) };
      } catch (error) {
        // Cancelled by the budget's statement_timeout (or finished after the deadline anyway): skipped, not failed.
        outcomes[index] = options.now() >= options.deadline ? { kind: 'skipped' } : { kind: 'failed', error };
      }
    }
  };
  const workers = Math.max(1, Math.min(options.parallel, items.length));
  await Promise.all(
    Array.from({ length: items.length === 0 ? 0 : workers }, () =>
      options.session(worker).catch((error: unknown) => {
        openError = error;
      }),
    ),
  );
  // Items no worker could take (every session failed to open) fail with the reason.
  return outcomes.map((outcome) => outcome ?? { kind: 'failed', error: openError ?? new Error('no session could be opened') });
}
