/**
 * Serves restore_command. Segments the restore will need are downloaded ahead of replay,
 * several at once, into a spool on the restored cluster's filesystem; each file appears there
 * under its final name only once complete and checked, so restore_command can take it with a
 * rename (cheaper than copying 16 MiB). Anything not prefetched is fetched on demand.
 * A storage failure is remembered and reported as an error, never as "not in the archive".
 */
import { chown, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import { RecoverError, toRecoverError } from '../errors.js';
import { BlobNotFoundError, type Storage } from '../storage/blob-store.js';
import type { Logger } from '../types.js';
import { archivedMismatch, decodeArchivedFile, expectedFromMetadata, type ExpectedSegment } from './archived-file.js';
import { readStreamToBuffer } from '../util/streams.js';

export interface FetcherOptions {
  storage: Storage;
  spoolDir: string;
  log: Logger;
  /** Segments in replay order to download ahead of time (empty: on-demand only). */
  prefetch?: string[];
  /** Expected size and checksums per name, from the catalog listing. */
  expected?: Map<string, ExpectedSegment>;
  parallel?: number;
  /** Most files kept in the spool, downloaded but not yet taken by recovery. */
  ahead?: number;
  /** Owner for spooled files when running as root (the postgres OS user). */
  owner?: { uid: number; gid: number };
  onProgress?: (stats: FetcherStats) => void;
}

export type { ExpectedSegment } from './archived-file.js';

/** Checks a download against what was archived: size, then the CRC (cheap) or else sha256. */
export function matchesArchived(raw: Buffer, expected: ExpectedSegment | undefined): boolean {
  return archivedMismatch(raw, expected) === null;
}

export interface FetcherStats {
  downloaded: number;
  bytes: number;
  consumed: number;
  /** Taken by restore_command's rename, without asking the agent (the fast path). */
  renamedBySpool: number;
  /** Asked of the agent because the file was not in the spool yet; and how long those waited. */
  servedByAgent: number;
  waitedMs: number;
  onDemand: number;
  planned: number;
}

type State =
  | { status: 'pending' }
  | { status: 'downloading'; done: Promise<void> }
  | { status: 'ready' }
  | { status: 'consumed' }
  | { status: 'failed'; error: RecoverError };

const CONSUMPTION_POLL_MS = 25;
export const PLANNED_SUFFIX = '.planned';

export class WalFetcher {
  readonly stats: FetcherStats;
  private readonly states = new Map<string, State>();
  private readonly order: string[];
  private next = 0;
  private active = 0;
  private readonly abort = new AbortController();
  private poller: NodeJS.Timeout | undefined;
  private firstError: RecoverError | undefined;
  private ahead: number;

  constructor(private readonly options: FetcherOptions) {
    this.order = options.prefetch ?? [];
    this.ahead = options.ahead ?? 64;
    for (const name of this.order) this.states.set(name, { status: 'pending' });
    this.stats = { downloaded: 0, bytes: 0, consumed: 0, renamedBySpool: 0, servedByAgent: 0, waitedMs: 0, onDemand: 0, planned: this.order.length };
    // Every in-flight download listens on this one signal; hundreds may come and go.
    setMaxListeners(0, this.abort.signal);
  }

  /** The first storage failure, for the engine's error message. */
  get error(): RecoverError | undefined {
    return this.firstError;
  }

  async start(): Promise<void> {
    await mkdir(this.options.spoolDir, { recursive: true });
    if (this.options.owner) await chown(this.options.spoolDir, this.options.owner.uid, this.options.owner.gid);
    // A `<name>.planned` marker tells restore_command to wait a moment for a segment that is
    // on its way instead of starting the agent hook (a ~40 ms Node process) to wait for it.
    await Promise.all(this.order.map((name) => writeFile(this.markerOf(name), '')));
    this.poller = setInterval(() => void this.noticeConsumed(), CONSUMPTION_POLL_MS);
    this.pump();
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.abort.abort();
    const running = [...this.states.values()].flatMap((s) => (s.status === 'downloading' ? [s.done.catch(() => undefined)] : []));
    await Promise.all(running);
  }

  private markerOf(name: string): string {
    return join(this.options.spoolDir, `${name}${PLANNED_SUFFIX}`);
  }

  private dropMarker(name: string): Promise<void> {
    return rm(this.markerOf(name), { force: true });
  }

  /** Changes how many segments may wait in the spool (e.g. a few only while the base backup streams in). */
  setAhead(ahead: number): void {
    this.ahead = ahead;
    this.pump();
  }

  private readyCount(): number {
    let count = 0;
    for (const state of this.states.values()) if (state.status === 'ready') count++;
    return count;
  }

  private pump(): void {
    const parallel = this.options.parallel ?? 8;
    while (!this.abort.signal.aborted && this.active < parallel && this.next < this.order.length && this.readyCount() + this.active < this.ahead) {
      const name = this.order[this.next++]!;
      if (this.states.get(name)?.status === 'pending') this.startDownload(name);
    }
  }

  private startDownload(name: string): Promise<void> {
    this.active++;
    const done = this.download(name)
      .then(async () => {
        if (this.states.get(name)?.status === 'downloading') this.states.set(name, { status: 'ready' });
        await this.dropMarker(name);
        this.stats.downloaded++;
        this.options.onProgress?.(this.stats);
      })
      .catch((error: unknown) => {
        const failure = toRecoverError(error, 'STORAGE_ERROR');
        this.firstError ??= failure;
        this.states.set(name, { status: 'failed', error: failure });
        // Without its marker, restore_command goes straight to the agent, which reports the error.
        void this.dropMarker(name).catch((error: unknown) => this.options.log.warn({ err: error }, 'could not remove a spool marker'));
        throw failure;
      })
      .finally(() => {
        this.active--;
        this.pump();
      });
    this.states.set(name, { status: 'downloading', done });
    done.catch(() => undefined); // observed through states and fetch(); keeps Node from reporting it unhandled
    return done;
  }

  /** restore_command already renamed these away: free their spool slots. */
  private async noticeConsumed(): Promise<void> {
    const ready = [...this.states.entries()].filter(([, s]) => s.status === 'ready').map(([name]) => name);
    if (ready.length === 0) return;
    let present: Set<string>;
    try {
      present = new Set(await readdir(this.options.spoolDir));
    } catch (error) {
      this.options.log.warn({ err: error }, 'cannot read the WAL spool');
      return;
    }
    let changed = false;
    for (const name of ready) {
      if (!present.has(name) && this.states.get(name)?.status === 'ready') {
        this.states.set(name, { status: 'consumed' });
        this.stats.consumed++;
        this.stats.renamedBySpool++;
        changed = true;
      }
    }
    if (changed) {
      this.options.onProgress?.(this.stats);
      this.pump();
    }
  }

  private async download(name: string, destination = join(this.options.spoolDir, name)): Promise<void> {
    const { storage } = this.options;
    const temp = join(this.options.spoolDir, `.partial-${name}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      // Whole segments in memory (16 MiB each, `parallel` at a time): cheaper in CPU than
      // streaming through transforms, and CPU is what replay competes for.
      const key = `${storage.walPrefix}${name}`;
      // Planned segments come with the catalog's checks; anything else (history files, a
      // standalone agent) is checked against the blob's own metadata, read alongside.
      const known = this.options.expected?.get(name);
      const info = known ? Promise.resolve(null) : storage.wal.head(key);
      info.catch(() => undefined); // awaited below; the download's own failure may come first
      const stored = await readStreamToBuffer(await storage.wal.getStream(key, this.abort.signal));
      const head = await info;
      const expected = known ?? (head ? expectedFromMetadata(head.metadata, head.size) : undefined);
      const raw = await decodeArchivedFile(stored, { name, key, store: storage.wal }, expected);
      await writeFile(temp, raw, { signal: this.abort.signal });
      if (this.options.owner) await chown(temp, this.options.owner.uid, this.options.owner.gid);
      await rename(temp, destination);
      this.stats.bytes += raw.length;
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** restore_command's request for `name` at `dest`: 'missing' means not in the archive. */
  async fetch(name: string, dest: string): Promise<'ok' | 'missing'> {
    const state = this.states.get(name);
    if (state?.status === 'failed') throw state.error;
    const asked = Date.now();
    if (state?.status === 'pending') await this.startDownload(name);
    else if (state?.status === 'downloading') await state.done;
    const now = this.states.get(name);
    if (now?.status === 'ready') {
      await rename(join(this.options.spoolDir, name), dest);
      this.states.set(name, { status: 'consumed' });
      this.stats.consumed++;
      this.stats.servedByAgent++;
      this.stats.waitedMs += Date.now() - asked;
      this.pump();
      return 'ok';
    }
    // Not planned (history files, the probe past the end of WAL) or already consumed once.
    this.stats.onDemand++;
    try {
      await this.download(name, dest);
      return 'ok';
    } catch (error) {
      if (error instanceof BlobNotFoundError) return 'missing';
      const failure = toRecoverError(error, 'STORAGE_ERROR');
      this.firstError ??= failure;
      throw failure;
    }
  }
}
