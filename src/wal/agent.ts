/**
 * The WAL agent: a long-lived process (or part of a running restore) that serves the hook
 * over a Unix socket. Keeping the storage client warm here is what makes archiving and
 * restoring fast; a cold Node process with the Azure SDK costs ~0.4 s per file.
 */
import { chmod, chown, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { toRecoverError } from '../errors.js';
import type { Storage } from '../storage/blob-store.js';
import type { Logger } from '../types.js';
import type { WalFetcher } from './fetcher.js';
import type { AgentReply, AgentRequest } from './protocol.js';
import { ArchiveAhead } from './archive-ahead.js';
import { walFileKind } from '../catalog/segments.js';

export interface WalAgentOptions {
  socketPath: string;
  storage: Storage;
  log: Logger;
  fetcher: WalFetcher;
  /** The postgres OS user must be able to connect; nobody else. */
  owner?: { uid: number; gid: number };
  onPushed?: (name: string) => void;
}

export interface WalAgent {
  close(): Promise<void>;
  readonly pushed: number;
}

function parseRequest(line: string): AgentRequest | null {
  try {
    const value = JSON.parse(line) as Partial<AgentRequest>;
    if (value.op === 'push' && typeof value.path === 'string' && typeof value.name === 'string') return value as AgentRequest;
    if (value.op === 'fetch' && typeof value.name === 'string' && typeof value.dest === 'string') return value as AgentRequest;
  } catch {
    // an unparsable line is answered below with the same error as a malformed request
  }
  return null;
}

export async function startWalAgent(options: WalAgentOptions): Promise<WalAgent> {
  const { log, storage, fetcher } = options;
  let pushed = 0;
  const archiveAhead = new ArchiveAhead(storage, log);

  async function handle(request: AgentRequest): Promise<AgentReply> {
    if (!walFileKind(request.name)) return { ok: false, status: 'error', message: `not a WAL file name: ${request.name}` };
    try {
      if (request.op === 'push') {
        const outcome = await archiveAhead.push(request.path, request.name);
        pushed++;
        options.onPushed?.(request.name);
        log.debug({ wal: request.name, outcome }, 'archived');
        return { ok: true, detail: outcome };
      }
      const outcome = await fetcher.fetch(request.name, request.dest);
      return outcome === 'ok' ? { ok: true } : { ok: false, status: 'missing', message: `${request.name} is not in the archive` };
    } catch (error) {
      const failure = toRecoverError(error, 'STORAGE_ERROR');
      log.error({ wal: request.name, op: request.op, code: failure.code, err: failure.cause ?? failure }, failure.message);
      // The hook prints this into PostgreSQL's log: what failed and what to do, on one line.
      return { ok: false, status: 'error', message: failure.forChannel().replace(/\n/g, ' ') };
    }
  }

  function serve(socket: Socket): void {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', (error) => log.warn({ err: error }, 'WAL hook connection failed'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const request = parseRequest(buffer.slice(0, end));
      buffer = '';
      const reply: Promise<AgentReply> = request
        ? handle(request)
        : Promise.resolve({ ok: false, status: 'error', message: 'malformed request' });
      void reply.then((answer) => socket.end(`${JSON.stringify(answer)}\n`));
    });
  }

  await rm(options.socketPath, { force: true });
  const server: Server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  await chmod(options.socketPath, 0o600);
  if (options.owner) await chown(options.socketPath, options.owner.uid, options.owner.gid);
  log.info({ socket: options.socketPath }, 'WAL agent listening');

  return {
    get pushed() {
      return pushed;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(options.socketPath, { force: true });
    },
  };
}
