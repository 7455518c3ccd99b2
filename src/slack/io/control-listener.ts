/**
 * One dedicated control-DB connection that LISTENs for job events and plans. If it drops,
 * it reconnects with backoff and asks for a catch-up (notifications sent meanwhile are
 * lost; the readers page by id, so a catch-up finds everything). The poll covers the gap.
 */
import type pg from 'pg';
import { PLANS_CHANNEL, subscribeEvents, subscribeIds } from '../../control/index.js';
import type { Logger } from '../../types.js';

export interface ListenerHandlers {
  event(jobId: string): void;
  plan(requestId: string): void;
  /** Called after a reconnect: look at everything again. */
  reconnected(): void;
}

export class ControlListener {
  private client: pg.PoolClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retryMs = 1000;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly handlers: ListenerHandlers,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = await this.pool.connect();
    client.on('error', (error: Error) => this.lost(client, error));
    try {
      await subscribeEvents(client, (jobId) => this.handlers.event(jobId));
      await subscribeIds(client, PLANS_CHANNEL, (requestId) => this.handlers.plan(requestId));
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (this.stopped) {
      client.release();
      return;
    }
    this.client = client;
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.log.warn({ err: error }, 'control DB listener connection lost; reconnecting (polling continues meanwhile)');
    client.release(error);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          this.retryMs = 1000;
          this.log.info('control DB listener reconnected');
          this.handlers.reconnected();
        },
        (error: unknown) => {
          this.retryMs = Math.min(this.retryMs * 2, 30_000);
          this.log.warn({ err: error, retryMs: this.retryMs }, 'control DB listener could not reconnect');
          this.reconnectLater();
        },
      );
    }, this.retryMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      await client.query('UNLISTEN *');
      client.release();
    } catch (error) {
      this.log.warn({ err: error }, 'control DB listener did not close cleanly');
      client.release(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
