import { availableParallelism } from 'node:os';
import { defaultBaseParallel } from '../config.js';
import type { Storage } from '../storage/blob-store.js';
import type { Clock, EventSink, Logger } from '../types.js';
import type { Exec } from './exec.js';
import type { Failpoint } from './failpoints.js';

/** Everything an executor may use, passed explicitly (no globals, no process.env). */
export interface EngineContext {
  log: Logger;
  exec: Exec;
  storage: Storage;
  events: EventSink;
  signal: AbortSignal;
  clock: Clock;
  /** The control-DB job this work belongs to (runner only): an in-place restore's journal names it. */
  jobId?: string;
  /** Fault tests only (RECOVER_FAILPOINTS): kills the process at a named point of a restore. */
  failpoint?: (name: Failpoint) => void;
}

export interface PgToolConfig {
  bin: string;
  osUser: string;
  /** How base backups are cut, compressed and moved (RECOVER_BASE_PART_MIB, RECOVER_BASE_PARALLEL, RECOVER_BASE_CODEC); defaults below. */
  baseTransfer?: BaseTransferConfig;
  /** Which tar extracts base backups (RECOVER_TAR): auto (bsdtar when installed), bsdtar or gnu. */
  tar?: 'auto' | 'bsdtar' | 'gnu';
  /** How `recover backup` reads the source (RECOVER_BACKUP_METHOD): auto, files or stream (backup-files/method.ts). */
  backupMethod?: 'auto' | 'files' | 'stream';
}

export interface BaseTransferConfig {
  /** Target size of one part's tar (a single larger file gets a part of its own). */
  partBytes: number;
  /** Parts uploaded, or downloaded and extracted, at once; also LZ4 frames compressed at once. */
  parallel: number;
  /** How each part is compressed (RECOVER_BASE_CODEC); restores follow what each part's manifest entry says. */
  codec?: PartCodec;
}

export type PartCodec = 'zstd' | 'lz4';

/** Settings for a caller that passes none: the same as loadConfig's defaults (one part per core). */
export function defaultBaseTransfer(): Required<BaseTransferConfig> {
  return { partBytes: 64 * 1024 * 1024, parallel: defaultBaseParallel(availableParallelism()), codec: 'zstd' };
}

export const nowIso = (clock: Clock) => clock.now().toISOString();
