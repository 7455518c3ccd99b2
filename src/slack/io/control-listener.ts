/**
 * The bot's LISTEN connection: job events and plans. Reconnecting after the control DB
 * restarts, and asking for a catch-up afterwards, is the shared ControlListener's job
 * (src/control/listener.ts, also used by the runner); the bot's poll covers the gap.
 */
import type pg from 'pg';
import { ControlListener as SharedListener, EVENTS_CHANNEL, PLANS_CHANNEL } from '../../control/index.js';
import type { Logger } from '../../types.js';

export interface ListenerHandlers {
  event(jobId: string): void;
  plan(requestId: string): void;
  /** Called after a reconnect: look at everything again. */
  reconnected(): void;
}

export class ControlListener extends SharedListener {
  constructor(pool: pg.Pool, log: Logger, handlers: ListenerHandlers) {
    super({
      pool,
      log,
      channels: { [EVENTS_CHANNEL]: (jobId) => handlers.event(jobId), [PLANS_CHANNEL]: (requestId) => handlers.plan(requestId) },
      reconnected: () => handlers.reconnected(),
    });
  }
}
