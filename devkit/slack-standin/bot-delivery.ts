/**
 * Sends signed requests to the bot the way Slack does and measures the ack: Slack gives up
 * after 3 seconds and shows the user an error, so a slow ack is recorded as a failure even if
 * the bot answers later. Every raw request is kept so security tests can replay it verbatim
 * or send tampered copies.
 */
import { performance } from 'node:perf_hooks';
import { forgedSignature, signedHeaders } from './signing.js';
import type { SocketModeHub } from './socket-mode.js';
import type { Clock, Json, StandInLog } from './types.js';

export type RequestKind = 'slash_command' | 'block_actions' | 'view_submission';

/** Ways to make a request that a correct bot must refuse. */
export interface Tamper {
  badSignature?: boolean;
  /** Shift the signed timestamp, e.g. -301 for one just past Slack's 5-minute window. */
  timestampSkewSeconds?: number;
  omitSignatureHeaders?: boolean;
}

export interface SentRequest {
  id: number;
  at: Date;
  kind: RequestKind;
  url: string;
  headers: Record<string, string>;
  rawBody: string;
}

export interface AckTimeout {
  at: Date;
  kind: RequestKind;
  detail: string;
  limitMs: number;
}

export interface Delivery {
  /** HTTP status of the bot's answer; 0 when it did not answer in time. */
  status: number;
  body: string;
  ackMs: number;
  timedOut: boolean;
  request: SentRequest;
}

export class BotDelivery {
  readonly sent: SentRequest[] = [];
  readonly ackTimeouts: AckTimeout[] = [];
  private botUrl: string | undefined;

  constructor(
    private readonly deps: {
      signingSecret: string;
      clock: Clock;
      ackTimeoutMs: number;
      botUrl?: string;
      /** When the bot holds a Socket Mode connection, requests go through it instead of HTTP. */
      socketMode?: SocketModeHub;
      log?: StandInLog;
    },
  ) {
    this.botUrl = deps.botUrl;
  }

  /** Tests start the stand-in first (the bot needs its URL), then tell it where the bot listens. */
  setBotUrl(url: string): void {
    this.botUrl = url;
  }

  async send(kind: RequestKind, rawBody: string, detail: string, tamper: Tamper = {}): Promise<Delivery> {
    if (this.deps.socketMode?.connected) return this.sendOverSocket(kind, rawBody, detail, tamper);
    const url = this.botUrl;
    if (!url) throw new Error('the Slack stand-in was started without botUrl (and setBotUrl was not called), so it cannot act as a user over HTTP');
    const timestamp = Math.floor(this.deps.clock.now().getTime() / 1000) + (tamper.timestampSkewSeconds ?? 0);
    const signing = signedHeaders(this.deps.signingSecret, timestamp, rawBody);
    if (tamper.badSignature) signing['x-slack-signature'] = forgedSignature(this.deps.signingSecret, timestamp, rawBody);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...(tamper.omitSignatureHeaders ? {} : signing),
    };
    const request: SentRequest = { id: this.sent.length + 1, at: this.deps.clock.now(), kind, url, headers, rawBody };
    this.sent.push(request);
    return this.deliver(request, detail);
  }

  /** Sends a previously sent request again, byte for byte (same signature and timestamp). */
  replay(request: SentRequest): Promise<Delivery> {
    if (!request.url.startsWith('http')) throw new Error('only HTTP requests can be replayed; Socket Mode has no signatures to reuse');
    return this.deliver(request, `replay of request ${request.id}`);
  }

  /** The same content as over HTTP: command fields as an object, interactions as the parsed payload. */
  private async sendOverSocket(kind: RequestKind, rawBody: string, detail: string, tamper: Tamper): Promise<Delivery> {
    const hub = this.deps.socketMode;
    if (!hub) throw new Error('Socket Mode is not enabled');
    if (Object.keys(tamper).length > 0) throw new Error('tampering applies to signed HTTP requests, not to Socket Mode');
    const fields = Object.fromEntries(new URLSearchParams(rawBody));
    const payload = kind === 'slash_command' ? fields : (JSON.parse(fields.payload ?? '{}') as Json);
    const request: SentRequest = { id: this.sent.length + 1, at: this.deps.clock.now(), kind, url: 'socket-mode', headers: {}, rawBody };
    this.sent.push(request);
    const ack = await hub.deliver(kind === 'slash_command' ? 'slash_commands' : 'interactive', payload, this.deps.ackTimeoutMs);
    if (!ack.acked) {
      this.ackTimeouts.push({ at: this.deps.clock.now(), kind, detail, limitMs: this.deps.ackTimeoutMs });
      return { status: 0, body: '', ackMs: ack.ackMs, timedOut: true, request };
    }
    return { status: 200, body: ack.payload ? JSON.stringify(ack.payload) : '', ackMs: ack.ackMs, timedOut: false, request };
  }

  private async deliver(request: SentRequest, detail: string): Promise<Delivery> {
    const { ackTimeoutMs } = this.deps;
    const started = performance.now();
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.rawBody,
        signal: AbortSignal.timeout(ackTimeoutMs),
      });
      const body = await response.text();
      const ackMs = performance.now() - started;
      this.deps.log?.debug({ kind: request.kind, status: response.status, ackMs }, 'slack stand-in: bot answered');
      return { status: response.status, body, ackMs, timedOut: false, request };
    } catch (error) {
      const ackMs = performance.now() - started;
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        this.ackTimeouts.push({ at: this.deps.clock.now(), kind: request.kind, detail, limitMs: ackTimeoutMs });
        this.deps.log?.warn({ kind: request.kind, detail, ackMs }, 'slack stand-in: bot did not ack in time');
        return { status: 0, body: '', ackMs, timedOut: true, request };
      }
      // Connection refused and the like are test-setup problems, not bot behaviour: say so loudly.
      throw new Error(`could not reach the bot at ${request.url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
