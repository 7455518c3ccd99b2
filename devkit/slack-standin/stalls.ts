/**
 * A Web API that stops answering, for as long as the test says: the next `count` calls of a
 * method are held until `release()`. In 'answer-late' mode Slack did the work when the call
 * arrived (the message exists) and only the answer is late, as when the Web API is slow; in
 * 'lost' mode the call never reached Slack and the connection is closed on release. No timers:
 * the bot's client times out on its own clock, the test decides when the answer comes.
 */
export type StallMode = 'answer-late' | 'lost';

export interface StallOptions {
  /** How many calls to hold; default 1. */
  count?: number;
  mode?: StallMode;
}

export interface StallHandle {
  /** Calls held so far (answered or not). */
  readonly held: number;
  /** Resolves once at least `count` calls (default: all the stall takes) are being held. */
  waitHeld(count?: number): Promise<void>;
  /** Answers every held call now (late), and lets the rest of the count pass. */
  release(): void;
}

/** What the HTTP layer gets for a call the stall takes. */
export interface HeldCall {
  mode: StallMode;
  /** Resolves when the test releases the stall. */
  released: Promise<void>;
}

interface Active {
  method: string;
  remaining: number;
  mode: StallMode;
  held: number;
  released: Promise<void>;
  release: () => void;
  isReleased: boolean;
  waiters: Array<{ count: number; resolve: () => void }>;
}

export class Stalls {
  private readonly active: Active[] = [];

  stall(method: string, options: StallOptions = {}): StallHandle {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`stall count must be a positive integer, got ${count}`);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry: Active = { method, remaining: count, mode: options.mode ?? 'answer-late', held: 0, released, release, isReleased: false, waiters: [] };
    this.active.push(entry);
    return {
      get held() {
        return entry.held;
      },
      waitHeld: (wanted = count) =>
        entry.held >= wanted ? Promise.resolve() : new Promise<void>((resolve) => entry.waiters.push({ count: wanted, resolve })),
      release: () => this.finish(entry),
    };
  }

  /** The stall holding a call of `method` arriving now, if any (it takes one of its count). */
  take(method: string): HeldCall | undefined {
    const entry = this.active.find((a) => a.method === method && !a.isReleased && a.remaining > 0);
    if (!entry) return undefined;
    entry.remaining -= 1;
    entry.held += 1;
    for (const waiter of entry.waiters.filter((w) => entry.held >= w.count)) waiter.resolve();
    entry.waiters = entry.waiters.filter((w) => entry.held < w.count);
    return { mode: entry.mode, released: entry.released };
  }

  /** Releases every stall (the stand-in is closing). */
  releaseAll(): void {
    for (const entry of [...this.active]) this.finish(entry);
  }

  private finish(entry: Active): void {
    entry.isReleased = true;
    entry.release();
    const index = this.active.indexOf(entry);
    if (index >= 0) this.active.splice(index, 1);
  }
}
