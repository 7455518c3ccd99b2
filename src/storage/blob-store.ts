import type { Readable } from 'node:stream';

/** One blob as listed or inspected. `metadata.sha256` is set by our own uploads. */
export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface PutOptions {
  metadata?: Record<string, string>;
  /** Fail with BlobExistsError instead of overwriting (WAL must never be overwritten). */
  ifNotExists?: boolean;
  signal?: AbortSignal;
}

/** The narrow interface every driver implements; one instance per container. */
export interface BlobStore {
  /** For messages: names the account/directory and container, never a secret. */
  readonly description: string;
  ensureContainer(): Promise<void>;
  put(key: string, body: Buffer | Readable, options?: PutOptions): Promise<void>;
  getStream(key: string, signal?: AbortSignal): Promise<Readable>;
  /** Downloads to `filePath` (written in place; callers rename atomically). */
  downloadToFile(key: string, filePath: string, signal?: AbortSignal): Promise<void>;
  head(key: string): Promise<BlobInfo | null>;
  list(prefix: string): AsyncIterable<BlobInfo>;
  delete(key: string): Promise<void>;
}

export class BlobExistsError extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} already exists`);
    this.name = 'BlobExistsError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} does not exist`);
    this.name = 'BlobNotFoundError';
  }
}

/** The three containers of the runbook's layout. */
export interface Storage {
  backups: BlobStore;
  wal: BlobStore;
  dumps: BlobStore;
  backupPrefix: string;
  walPrefix: string;
}

export async function listAll(store: BlobStore, prefix: string): Promise<BlobInfo[]> {
  const result: BlobInfo[] = [];
  for await (const blob of store.list(prefix)) result.push(blob);
  return result;
}
