/**
 * The stand-in's HTTP listener on 127.0.0.1: `/api/<method>` for the Web API (form-encoded,
 * JSON or query string, as Slack accepts), `/response/<id>` for response_url POSTs,
 * `/upload/<token>` for the bytes of a file upload (web-api-files.ts), and the channel as a
 * web page (`/`, `/web/*`; web/web-view.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ResponseUrls } from './response-urls.js';
import type { Stalls } from './stalls.js';
import type { UploadStore } from './web-api-files.js';
import type { Json, StandInLog } from './types.js';
import type { WebApi } from './web-api.js';
import type { WebView } from './web/web-view.js';

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface HttpRoutes {
  webApi: WebApi;
  responseUrls: ResponseUrls;
  /** Upload URLs handed out by files.getUploadURLExternal. */
  uploads?: UploadStore;
  log?: StandInLog;
  /** Calls held until the test releases them (a Web API that does not answer). */
  stalls?: Stalls;
  /** WebSocket upgrades (Socket Mode), when enabled. */
  onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The channel as a web page (`/` and `/web/*`). */
  web?: WebView;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new Error(`request body over ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

type Parsed = { ok: true; params: Json } | { ok: false; error: 'invalid_json' | 'json_not_object' | 'invalid_form_data' };

/** Slack's own answers to bodies it cannot read, so the bot sees the same codes. */
export function parseBody(contentType: string, raw: string): Parsed {
  if (raw.length === 0) return { ok: true, params: {} };
  if (contentType.startsWith('application/json')) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, error: 'invalid_json' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'json_not_object' };
    return { ok: true, params: value as Json };
  }
  if (contentType === '' || contentType.startsWith('application/x-www-form-urlencoded')) {
    return { ok: true, params: Object.fromEntries(new URLSearchParams(raw)) };
  }
  return { ok: false, error: 'invalid_form_data' };
}

function send(response: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

async function handle(routes: HttpRoutes, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const uploadMatch = /^\/upload\/([a-f0-9]+)$/.exec(url.pathname);
  if (uploadMatch?.[1] && routes.uploads && request.method === 'POST') {
    const answer = routes.uploads.receive(uploadMatch[1], await readBody(request, routes.uploads.maxBytes));
    response.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(answer.text);
    return;
  }
  const raw = (await readBody(request)).toString('utf8');
  const contentType = (request.headers['content-type'] ?? '').toLowerCase();

  const apiMatch = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
  if (apiMatch?.[1]) {
    const parsed = parseBody(contentType, raw);
    if (!parsed.ok) return send(response, 200, { ok: false, error: parsed.error });
    const params: Json = { ...Object.fromEntries(url.searchParams), ...parsed.params };
    const authorization = request.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    const held = routes.stalls?.take(apiMatch[1]);
    if (held?.mode === 'lost') {
      // Never reached Slack: nothing is done or recorded; the connection just goes away.
      await held.released;
      response.destroy();
      return;
    }
    const result = routes.webApi.call({ method: apiMatch[1], params, ...(bearer ? { bearer } : {}) });
    if (held) {
      // Done now, answered when the test says so (if the client still listens).
      await held.released;
      if (response.destroyed) return;
    }
    return send(response, result.status, result.body, result.headers);
  }

  const responseMatch = /^\/response\/([a-f0-9]+)$/.exec(url.pathname);
  if (responseMatch?.[1] && request.method === 'POST') {
    const parsed = parseBody(contentType.startsWith('application/x-www-form') ? contentType : 'application/json', raw);
    if (!parsed.ok) return send(response, 400, { ok: false, error: parsed.error });
    const result = routes.responseUrls.post(responseMatch[1], parsed.params);
    return send(response, result.status, result.body);
  }
  if (routes.web && (await routes.web.handle(request, response, url, raw))) return;
  send(response, 404, { ok: false, error: 'not_found' });
}

export function startHttpServer(routes: HttpRoutes, port: number): Promise<RunningServer> {
  const server = createServer((request, response) => {
    handle(routes, request, response).catch((error: unknown) => {
      routes.log?.warn({ err: error, url: request.url }, 'slack stand-in: request failed');
      if (!response.headersSent) send(response, 500, { ok: false, error: 'standin_internal_error', detail: String(error) });
      else response.end();
    });
  });
  if (routes.onUpgrade) server.on('upgrade', routes.onUpgrade);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        server,
        port: address.port,
        close: () =>
          new Promise<void>((done, fail) => {
            // Clients such as the Web API's fetch keep connections alive; close them so shutdown is immediate.
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
