/**
 * A watch's loop: one look at start, then one every `seconds`, never two at once (a slow look
 * skips the ticks it overlaps); a failed look is logged and the next tick tries again. Shared by
 * the RPO watch and the two-primaries watchdog, which differ only in what a look does.
 */
import type { Logger } from '../../types.js';
import type { NoticeKind } from './state.js';

export interface PeriodicWatch {
  /** One look; the notice this runner wrote, if any. Throws when the control DB fails. */
  check(): Promise<NoticeKind | null>;
  start(): void;
  stop(): Promise<void>;
}

export function periodicWatch(name: string, seconds: number, check: () => Promise<NoticeKind | null>, log: Logger): PeriodicWatch {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    check,
    start() {
      if (seconds <= 0 || timer) return;
      const look = () => {
        running ??= check()
          .catch((error: unknown) => log.warn({ err: error }, `${name}: this look failed; trying again at the next one`))
          .finally(() => (running = undefined));
      };
      look();
      timer = setInterval(look, seconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
