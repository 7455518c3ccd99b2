/**
 * PostgreSQL's archiver hands over one segment at a time and waits for each, so a busy
 * primary can fill segments faster than one-by-one uploads finish. When asked to archive a
 * segment, this also starts uploading the other segments already marked `.ready` in
 * archive_status (finished, never rewritten), a few at a time; when the archiver asks for
 * them, the answer is often already there. A failed early upload is simply retried when the
 * archiver asks, and pushWalFile is idempotent either way.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Storage } from '../storage/blob-store.js';
import type { Logger } from '../types.js';
import { pushWalFile, type PushOutcome } from './push.js';
import { walFileKind } from '../catalog/segments.js';

const MAX_REMEMBERED = 256;

export class ArchiveAhead {
  private readonly uploads = new Map<string, Promise<PushOutcome>>();
  private active = 0;
  private readonly direct = new Set<string>();
  private looking: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly parallel = 4,
  ) {}

  /** Archives `name` (joining an early upload of it if one exists), then looks ahead. */
  async push(path: string, name: string): Promise<PushOutcome> {
    const early = this.uploads.get(name);
    this.uploads.delete(name);
    this.looking = this.lookAhead(path, name);
    if (early) {
      try {
        return await early;
      } catch (error) {
        this.log.warn({ wal: name, err: error }, 'early upload failed; archiving again');
      }
    }
    // Registered while it runs so a look-ahead never starts a second upload of the same file.
    this.direct.add(name);
    try {
      return await pushWalFile(this.storage, this.log, path, name);
    } finally {
      this.direct.delete(name);
    }
  }

  /** Resolves once the latest look-ahead has started its uploads and all of them have settled. */
  async settled(): Promise<void> {
    await this.looking;
    await Promise.allSettled([...this.uploads.values()]);
  }

  /** Segments uploaded (or being uploaded) ahead of being asked for. */
  get startedAhead(): string[] {
    return [...this.uploads.keys()].sort();
  }

  private async lookAhead(path: string, current: string): Promise<void> {
    const walDir = dirname(path);
    let ready: string[];
    try {
      ready = (await readdir(join(walDir, 'archive_status')))
        .filter((file) => file.endsWith('.ready'))
        .map((file) => file.slice(0, -'.ready'.length))
        .filter((name) => name !== current && walFileKind(name) === 'segment' && !this.uploads.has(name) && !this.direct.has(name))
        .sort();
    } catch (error) {
      // Not a PostgreSQL pg_wal layout (e.g. a manual push): nothing to look ahead at.
      this.log.debug({ err: error, dir: walDir }, 'no archive_status to look ahead in');
      return;
    }
    for (const name of ready) {
      if (this.active >= this.parallel || this.uploads.size >= MAX_REMEMBERED) break;
      this.active++;
      const upload = pushWalFile(this.storage, this.log, join(walDir, basename(name)), name).finally(() => {
        this.active--;
      });
      upload.catch(() => undefined); // observed when the archiver asks for it
      this.uploads.set(name, upload);
    }
  }
}
