/**
 * What the handlers and watchers share: configuration, the control DB, the outbox, and two
 * small concurrency helpers — background tasks that always report their failure somewhere
 * visible, and a per-key lock so two clicks on the same request run one after the other.
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import { toRecoverError, type RecoverError } from '../errors.js';
import type { Clock, Logger } from '../types.js';
import type { ApproverDirectory } from './flows/approvers.js';
import type { Outbox } from './io/outbox.js';
import type { Metrics } from '../metrics/registry.js';

/** Work done after the ack. Each task gets a way to tell a person when it fails. */
export class Tasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  run(label: string, work: () => Promise<void>, report: (error: RecoverError) => Promise<void>): void {
    const task = (async () => {
      try {
        await work();
      } catch (error) {
        const failure = toRecoverError(error);
        this.log.error({ err: failure, cause: failure.cause, task: label }, `${label} failed`);
        try {
          await report(failure);
        } catch (reportError) {
          this.log.error({ err: reportError, task: label }, `${label}: could not report the failure either`);
        }
      }
    })();
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  /** Waits for running tasks, at most `timeoutMs`. */
  async settle(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Runs functions with the same key one after the other (in this process). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    // The caller gets `next` (and its error); the chain only needs to know it settled.
    const tail = next.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/** A bounded map (oldest entries dropped first), for what the bot remembers only as a nicety. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max = 1000) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    while (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}

export interface BotDeps {
  config: Config;
  control: pg.Pool;
  log: Logger;
  clock: Clock;
  out: Outbox;
  approvers: ApproverDirectory;
  tasks: Tasks;
  locks: KeyedLock;
  /** What people typed, by request id, to show it back; falls back to the command name. */
  typedText: BoundedMap<string, string>;
  /** The process's /metrics counters (metrics/registry.ts); absent in tests that build deps by hand. */
  metrics?: Metrics;
}
