/** Bounded concurrency for base backup parts: at most `limit` at once, the first failure stops the rest. */

/** A counting semaphore; acquire() waits (or rejects when `signal` aborts) until a slot is free. */
export class Slots {
  private active = 0;
  private waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`a concurrency limit must be at least 1, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        };
        const onAbort = () => {
          this.waiting = this.waiting.filter((w) => w !== waiter);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}

/**
 * Runs `task` for every item, at most `limit` at a time, in order of the items. The first
 * failure aborts the signal handed to the others and starts no more; once every running
 * task has settled (so no tool is left running), that first error is thrown.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  parent: AbortSignal,
  task: (item: T, index: number, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!controller.signal.aborted && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index, controller.signal);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
        }
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  } finally {
    parent.removeEventListener('abort', onParentAbort);
  }
  if (failed) throw firstError;
  parent.throwIfAborted();
  return results;
}
