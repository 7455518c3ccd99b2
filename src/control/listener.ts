/**
 * One dedicated control-DB connection that LISTENs on a few channels, for as long as the
 * process runs, in the runner and in the bot. A managed PostgreSQL restarts now and then
 * (maintenance, failover): the connection then gets 'error' (57P01 "terminating connection due
 * to administrator command", or a reset socket) and 'end'. Both are handled here; without a
 * listener Node throws the 'error' event and the whole process exits.
 *
 * After a loss it reconnects with capped exponential backoff and jitter, LISTENs on every
 * channel again, and calls `reconnected()`: notifications sent while it was away are lost for
 * good, so the owner looks at everything again (its readers page by id, so a catch-up finds
 * all of it). Each owner also polls, so a missed notification only ever delays work.
 */
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';
import { backoffDelay, DEFAULT_BACKOFF, type Backoff } from './retry.js';

export interface ControlListenerOptions {
  pool: pg.Pool;
  log: Logger;
  /** Channel name → what to do with a notification's payload (an id). */
  channels: Readonly<Record<string, (payload: string) => void>>;
  /** After a reconnect: look at everything again (notifications sent meanwhile are lost). */
  reconnected: () => void;
  backoff?: Backoff;
  random?: () => number;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

export class ControlListener {
  private client: pg.PoolClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = true;
  private detach: () => void = () => undefined;
  /** Reconnects so far (for logs and tests). */
  reconnects = 0;

  constructor(private readonly options: ControlListenerOptions) {
    for (const channel of Object.keys(options.channels)) {
      // LISTEN takes an identifier, not a parameter: only our own constant names.
      if (!CHANNEL_NAME.test(channel)) throw new RecoverError('INTERNAL', `Not a channel name: ${JSON.stringify(channel)}`);
    }
  }

  /** Connected and listening right now. */
  get listening(): boolean {
    return this.client !== null;
  }

  /** The first connection: its failure is the caller's (a start-up error), later ones are retried here. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = await this.options.pool.connect();
    const onError = (error: Error) => this.lost(client, error);
    const onEnd = () => this.lost(client, new Error('control DB listener connection ended'));
    const onNotification = (message: pg.Notification) => {
      const handler = this.options.channels[message.channel];
      if (handler && message.payload) handler(message.payload);
    };
    // Both: 'error' for a server that says goodbye or a socket error, 'end' for one that just closes.
    client.on('error', onError);
    client.on('end', onEnd);
    client.on('notification', onNotification);
    this.detach = () => {
      client.off('error', onError);
      client.off('end', onEnd);
      client.off('notification', onNotification);
    };
    try {
      for (const channel of Object.keys(this.options.channels)) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      client.off('notification', onNotification);
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (this.stopped) {
      client.off('notification', onNotification);
      client.release(true);
      return;
    }
    this.client = client;
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.detach();
    // Still listening for 'error': a dead socket can report more than once.
    client.on('error', () => undefined);
    // release(error) destroys it instead of handing a dead connection back to the pool.
    client.release(error);
    if (this.stopped) return;
    this.options.log.warn({ err: error }, 'control DB listener connection lost; reconnecting (polling continues meanwhile)');
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.stopped || this.timer) return;
    const waitMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.attempt = 0;
          this.reconnects += 1;
          this.options.log.info({ reconnects: this.reconnects }, 'control DB listener reconnected');
          this.options.reconnected();
        },
        (error: unknown) => {
          if (this.attempt % 10 === 1) this.options.log.warn({ err: error, attempt: this.attempt }, 'control DB listener could not reconnect yet');
          this.reconnectLater();
        },
      );
    }, waitMs);
    // The owner's own loop keeps the process alive; a pending reconnect alone must not.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    this.detach();
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      await client.query('UNLISTEN *');
      client.off('error', ignore);
      client.release();
    } catch (error) {
      this.options.log.warn({ err: error }, 'control DB listener did not close cleanly');
      client.release(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
