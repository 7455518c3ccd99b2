/**
 * The HTTP receiver for the bot. Slack needs an answer within 3 s, and a burst of commands
 * (an incident pulls everyone in at once) must not queue acks behind each other's work. So
 * requests that are always acknowledged with an empty body — slash commands and button
 * clicks — get their 200 the moment the signature checks out, before Bolt runs any listener;
 * Bolt then processes them with a no-op ack. Modal submissions (whose ack carries
 * validation errors) and everything else go through Bolt with the real ack, as usual.
 * It also answers GET /healthz and /readyz (util/health.ts) for the container's HEALTHCHECK.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../types.js';
import { answerHealth, isHealthRequest, isMetricsRequest, type MetricsAnswer, type ReadinessProbe } from '../../util/health.js';
import { BurstGate } from './burst-gate.js';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SKEW_SECONDS = 5 * 60;
/** A burst of requests is over when none arrived for this long (ms); their work waits at most BURST_MAX_WAIT_MS. */
const BURST_QUIET_MS = 5;
const BURST_MAX_WAIT_MS = 200;

/** Where Slack sends slash commands and interactions over HTTP (manifest.yml's request URLs end with it). */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface FastAckReceiverOptions {
  signingSecret: string;
  log: Logger;
  path?: string;
  now?: () => number;
}

/** Slack's v0 scheme: hex HMAC-SHA256 of `v0:{timestamp}:{body}`; stale timestamps are refused. */
export function verifySignature(secret: string, headers: IncomingMessage['headers'], rawBody: string, nowSeconds: number): boolean {
  const signature = headers['x-slack-signature'];
  const timestamp = Number(headers['x-slack-request-timestamp']);
  if (typeof signature !== 'string' || !Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > MAX_SKEW_SECONDS) return false;
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Slack's signature headers for `rawBody` (the warm-up signs its own request with them). */
export function signatureHeaders(secret: string, timestampSeconds: number, rawBody: string): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestampSeconds) };
}

/**
 * The warm-up request: a signed slash command that no listener handles (it is not
 * `/recover…`) and that carries no trigger_id or response_url, so nothing records, answers
 * or posts anything for it.
 */
export const WARM_UP_COMMAND = '/warm-up-recover-bot';

/** Form-encoded commands, `payload=` JSON interactions, or a JSON body (url_verification). */
export function parseBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return JSON.parse(rawBody) as Record<string, unknown>;
  const fields = Object.fromEntries(new URLSearchParams(rawBody));
  return typeof fields.payload === 'string' ? (JSON.parse(fields.payload) as Record<string, unknown>) : fields;
}

export function acksAtOnce(body: Record<string, unknown>): boolean {
  return typeof body.command === 'string' || body.type === 'block_actions';
}

export class FastAckReceiver implements Receiver {
  private app: App | undefined;
  private server: Server | undefined;
  /** Bolt's work for requests already answered, so the warm-up can wait for its own. */
  private readonly working = new Set<Promise<void>>();
  /** Bolt's work for answered requests waits for the end of a burst of requests (burst-gate.ts). */
  private readonly afterBurst = new BurstGate({ quietMs: BURST_QUIET_MS, maxWaitMs: BURST_MAX_WAIT_MS });
  /** What /readyz answers; the bot sets it (serveReadiness) once it has started. */
  private readiness: ReadinessProbe = async () => ({ ready: false, reason: 'starting' });
  private metrics: MetricsAnswer | undefined;

  constructor(private readonly options: FastAckReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }

  serveReadiness(probe: ReadinessProbe): void {
    this.readiness = probe;
  }

  /** GET /metrics (metrics/registry.ts), once the bot has made its registry. */
  serveMetrics(answer: MetricsAnswer): void {
    this.metrics = answer;
  }

  async start(listen: { port: number; host?: string }): Promise<Server> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    return server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Sends this receiver, over HTTP to its own port, a request signed the way Slack signs them
   * (WARM_UP_COMMAND), and waits for the 200 and for Bolt to be done with it: the first real
   * commands then find the HTTP server, the signature check, body parsing and Bolt's
   * dispatch already compiled. It is sent with `fetch`, which Bolt's `respond()` uses for
   * response_url answers and whose first call alone costs ~100 ms of CPU (Node loads it
   * lazily). Throws if the request is not answered with 200.
   */
  async warmUp(): Promise<void> {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the receiver is not listening');
    const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const body = new URLSearchParams({ command: WARM_UP_COMMAND, text: 'help', team_id: 'T0WARMUP', channel_id: 'C0WARMUP', channel_name: 'warm-up', user_id: 'U0WARMUP', user_name: 'warm-up' }).toString();
    const timestamp = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    const response = await fetch(`http://${host}:${address.port}${this.options.path ?? SLACK_EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signatureHeaders(this.options.signingSecret, timestamp, body) },
      body,
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`answered ${response.status} instead of 200`);
    await Promise.allSettled([...this.working]);
  }

  private track(work: Promise<void>): void {
    this.working.add(work);
    void work.finally(() => this.working.delete(work));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = this.options.path ?? SLACK_EVENTS_PATH;
    if (isHealthRequest(req.method, req.url)) {
      answerHealth(req, res, this.readiness);
      return;
    }
    if (this.metrics && isMetricsRequest(req.method, req.url)) {
      this.metrics(req, res);
      return;
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => this.dispatch(req, res, Buffer.concat(chunks).toString('utf8')));
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const nowSeconds = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    if (!verifySignature(this.options.signingSecret, req.headers, rawBody, nowSeconds)) {
      this.options.log.warn({ url: req.url }, 'refused a Slack request with a bad or stale signature');
      res.writeHead(401).end();
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(rawBody, req.headers['content-type']);
    } catch (error) {
      this.options.log.warn({ err: error }, 'refused an unreadable Slack request');
      res.writeHead(400).end();
      return;
    }
    if (body.type === 'url_verification') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challenge: body.challenge }));
      return;
    }
    const retry = { retryNum: Number(req.headers['x-slack-retry-num']) || undefined, retryReason: req.headers['x-slack-retry-reason'] as string | undefined };
    if (acksAtOnce(body)) {
      res.writeHead(200).end();
      // After the response is on its way, and after the burst it came in: Bolt's work never delays an ack.
      this.track(new Promise((resolve) => this.afterBurst.add(() => this.process({ body, ack: async () => undefined, ...retry }).then(resolve))));
      return;
    }
    let answered = false;
    const ack = async (response?: unknown): Promise<void> => {
      if (answered) return;
      answered = true;
      if (response === undefined || response === '') res.writeHead(200).end();
      else if (typeof response === 'string') res.writeHead(200, { 'content-type': 'text/plain' }).end(response);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
    };
    this.track(this.process({ body, ack, ...retry }).finally(() => {
      if (!answered) ack().catch((error: unknown) => this.options.log.error({ err: error }, 'could not answer Slack'));
    }));
  }

  private async process(event: ReceiverEvent): Promise<void> {
    try {
      await this.app!.processEvent(event);
    } catch (error) {
      // Bolt already reported it through app.error (which posts to the channel where it can).
      this.options.log.error({ err: error }, 'a Slack request failed in the bot');
    }
  }
}
