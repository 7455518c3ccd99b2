/**
 * Health endpoints for the long-running processes (the bot, the runner), for a container's
 * HEALTHCHECK, a Kubernetes probe or a load balancer:
 *
 *   GET /healthz  the process is alive: 200 at once, no external call (a control-DB outage
 *                 must not get a runner in the middle of a restore killed as "unhealthy")
 *   GET /readyz   it can do its work: 200, or 503 with a short reason (a probe's verdict)
 *
 * Bodies are small JSON without secrets: a reason names what is missing and at most an error
 * code (ECONNREFUSED, 57P03), never a connection URL, host or user.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LIVE_PATH = '/healthz';
export const READY_PATH = '/readyz';
/** How long /readyz waits for the control DB's `SELECT 1` before it says not ready. */
export const READY_TIMEOUT_MS = 2000;

/** Answers GET /metrics (metrics/registry.ts); served beside the health endpoints when given. */
export type MetricsAnswer = (req: IncomingMessage, res: ServerResponse) => void;

/** GET or HEAD /metrics (any query string). */
export function isMetricsRequest(method: string | undefined, url: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && url?.split('?')[0] === '/metrics';
}

export type Readiness = { ready: true } | { ready: false; reason: string };
export type ReadinessProbe = () => Promise<Readiness>;

/** Whether a request is one of the health endpoints (GET or HEAD, any query string). */
export function isHealthRequest(method: string | undefined, url: string | undefined): boolean {
  const path = url?.split('?')[0];
  return (method === 'GET' || method === 'HEAD') && (path === LIVE_PATH || path === READY_PATH);
}

function reply(res: ServerResponse, status: number, body: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** Answers a health request (see isHealthRequest); a probe that throws counts as not ready. */
export function answerHealth(req: IncomingMessage, res: ServerResponse, probe: ReadinessProbe): void {
  if (req.url?.split('?')[0] === LIVE_PATH) return reply(res, 200, { status: 'ok' });
  probe()
    .catch((error: unknown): Readiness => ({ ready: false, reason: `readiness check failed (${errorCode(error)})` }))
    .then((state) => (state.ready ? reply(res, 200, { status: 'ready' }) : reply(res, 503, { status: 'not ready', reason: state.reason })))
    .catch(() => res.destroy());
}

/** An error's code (a Node or SQLSTATE code), or its class name: never its message, which may name hosts or users. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[\w-]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'error';
}

/** Something that runs SQL: a pg Pool or Client. */
export interface Queryable {
  query(text: string): Promise<unknown>;
}

/**
 * The control DB answers `SELECT 1` (and then `more`, a check of the caller's that queries it)
 * within `timeoutMs`. One check at a time: probes arriving while one is pending share it, so a
 * hung control DB never piles up connection attempts.
 */
export function controlDbProbe(db: Queryable, timeoutMs = READY_TIMEOUT_MS, more?: ReadinessProbe): ReadinessProbe {
  let pending: Promise<Readiness> | undefined;
  const check = (): Promise<Readiness> =>
    db
      .query('SELECT 1')
      .then(async (): Promise<Readiness> => (more ? more() : { ready: true }))
      .catch((error: unknown): Readiness => ({ ready: false, reason: `control DB unreachable (${errorCode(error)})` }));
  return () => {
    pending ??= check().finally(() => {
      pending = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, reason: `control DB did not answer within ${timeoutMs} ms` }), timeoutMs);
    });
    return Promise.race([pending, late]).finally(() => clearTimeout(timer));
  };
}

/** Ready when every probe is, in order; the first one not ready gives the reason. */
export function allReady(...probes: ReadinessProbe[]): ReadinessProbe {
  return async () => {
    for (const probe of probes) {
      const state = await probe();
      if (!state.ready) return state;
    }
    return { ready: true };
  };
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A listener that answers only the health endpoints and /metrics when given (404 for anything else): for the bot in
 * Socket Mode, which has no HTTP server of its own, and for the runner (RECOVER_HEALTH_PORT).
 */
export async function startHealthServer(options: { port: number; host?: string; probe: ReadinessProbe; metrics?: MetricsAnswer }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    if (isHealthRequest(req.method, req.url)) answerHealth(req, res, options.probe);
    else if (options.metrics && isMetricsRequest(req.method, req.url)) options.metrics(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
