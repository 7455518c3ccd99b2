/**
 * Socket Mode: `apps.connections.open` (app-level token) hands out a single-use ws:// URL;
 * the bot connects, gets `hello`, and from then on receives envelopes it must ack with the
 * same envelope_id within 3 seconds, optionally with a response payload (the equivalent of
 * an HTTP ack body).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { MethodHandler } from './api-context.js';
import type { Json, StandInLog } from './types.js';
import { WsConnection } from './websocket.js';
import type { Workspace } from './workspace.js';

export type EnvelopeType = 'slash_commands' | 'interactive';

export interface SocketAck {
  acked: boolean;
  /** The ack's payload; undefined when the bot acked without one. */
  payload?: Json;
  ackMs: number;
}

interface PendingAck {
  resolve(payload: Json | undefined): void;
}

export class SocketModeHub {
  private readonly tickets = new Set<string>();
  private readonly connections = new Set<WsConnection>();
  private readonly pending = new Map<string, PendingAck>();

  constructor(private readonly deps: { baseUrl: () => string; workspace: Workspace; log?: StandInLog }) {}

  get connected(): boolean {
    return [...this.connections].some((c) => c.isOpen);
  }

  /** Web API handlers this hub adds: only apps.connections.open. */
  handlers(): Record<string, MethodHandler> {
    return {
      'apps.connections.open': () => {
        const ticket = randomBytes(16).toString('hex');
        this.tickets.add(ticket);
        return { url: `${this.deps.baseUrl().replace(/^http/, 'ws')}socket-mode/${ticket}` };
      },
    };
  }

  onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ticket = /^\/socket-mode\/([0-9a-f]+)/.exec(request.url ?? '')?.[1];
    if (!ticket || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    const connection = WsConnection.accept(request, socket, head, {
      onText: (text) => this.receive(text),
      onClose: () => this.connections.delete(connection as WsConnection),
    });
    if (!connection) return;
    this.connections.add(connection);
    connection.sendText(JSON.stringify({
      type: 'hello',
      num_connections: this.connections.size,
      debug_info: { host: 'slack-standin', approximate_connection_time: 3600 },
      connection_info: { app_id: this.deps.workspace.appId },
    }));
  }

  /** Sends one envelope to a connected bot and waits for its ack, at most `timeoutMs`. */
  async deliver(type: EnvelopeType, payload: Json, timeoutMs: number): Promise<SocketAck> {
    const connection = [...this.connections].find((c) => c.isOpen);
    if (!connection) throw new Error('no Socket Mode connection is open');
    const envelopeId = randomBytes(12).toString('hex');
    const started = performance.now();
    const ack = new Promise<{ acked: true; payload: Json | undefined } | { acked: false }>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        resolve({ acked: false });
      }, timeoutMs);
      this.pending.set(envelopeId, {
        resolve: (ackPayload) => {
          clearTimeout(timer);
          resolve({ acked: true, payload: ackPayload });
        },
      });
    });
    connection.sendText(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: true, retry_attempt: 0, retry_reason: '' }));
    const result = await ack;
    const ackMs = performance.now() - started;
    if (!result.acked) return { acked: false, ackMs };
    return { acked: true, ackMs, ...(result.payload === undefined ? {} : { payload: result.payload }) };
  }

  close(): void {
    for (const connection of this.connections) connection.close(1001);
    this.connections.clear();
  }

  private receive(text: string): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch (error) {
      this.deps.log?.warn({ err: error, text }, 'slack stand-in: Socket Mode message is not JSON');
      return;
    }
    const pending = typeof message.envelope_id === 'string' ? this.pending.get(message.envelope_id) : undefined;
    if (!pending || typeof message.envelope_id !== 'string') return;
    this.pending.delete(message.envelope_id);
    const payload = message.payload;
    // Bolt acks without a body as `payload: {}`; over HTTP that is an empty response.
    const hasPayload = typeof payload === 'object' && payload !== null && Object.keys(payload).length > 0;
    pending.resolve(hasPayload ? (payload as Json) : undefined);
  }
}
