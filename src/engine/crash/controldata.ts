/**
 * pg_controldata of a (possibly crashed) data directory: the cluster state, timeline, latest
 * checkpoint and its REDO location, and the WAL segment of each. Read-only, works whether the
 * server is up or down; the parser is pure.
 */
import { join } from 'node:path';
import { parseLsn, segmentName, segmentOfLsn } from '../../catalog/segments.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext, PgToolConfig } from '../context.js';

export interface ControlData {
  systemIdentifier: string;
  /** "in production", "shut down", "in crash recovery", "in archive recovery", "shut down in recovery", "shutting down". */
  state: string;
  timeline: number;
  checkpointLsn: string;
  redoLsn: string;
  /** The WAL file holding the REDO location (as pg_controldata names it). */
  redoWalFile: string;
  /** The WAL file holding the checkpoint record itself. */
  checkpointWalFile: string;
  checkpointTime: string | null;
  walSegmentSize: number;
  /** 0: data checksums off. */
  dataChecksumVersion: number;
  catalogVersion: string;
  fullPageWrites: boolean;
  /** wal_log_hints as of the latest checkpoint: pg_rewind needs it on (or data checksums). */
  walLogHints: boolean;
}

/** States after which the server stopped without a shutdown checkpoint: starting it runs crash recovery. */
export const CRASHED_STATES = ['in production', 'in crash recovery', 'shutting down'] as const;
/** A standby's states (a replica), cleanly stopped or not. */
export const STANDBY_STATES = ['in archive recovery', 'shut down in recovery'] as const;

/** Pure: pg_controldata's output (C locale) → the fields triage uses; throws on output it cannot read. */
export function parseControlData(text: string): ControlData {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const need = (name: string) => {
    const value = fields.get(name);
    if (value === undefined || value === '') throw new Error(`pg_controldata printed no "${name}"`);
    return value;
  };
  const timeline = Number(need("Latest checkpoint's TimeLineID"));
  const walSegmentSize = Number(need('Bytes per WAL segment'));
  if (!Number.isInteger(timeline) || timeline < 1) throw new Error(`pg_controldata's timeline is not a number: ${fields.get("Latest checkpoint's TimeLineID")}`);
  if (!Number.isInteger(walSegmentSize) || walSegmentSize <= 0) throw new Error('pg_controldata printed no usable WAL segment size');
  const checkpointLsn = need('Latest checkpoint location');
  const redoLsn = need("Latest checkpoint's REDO location");
  parseLsn(checkpointLsn);
  parseLsn(redoLsn);
  const segmentOf = (lsn: string) => segmentName(timeline, segmentOfLsn(parseLsn(lsn), walSegmentSize), walSegmentSize);
  return {
    systemIdentifier: need('Database system identifier'),
    state: need('Database cluster state'),
    timeline,
    checkpointLsn,
    redoLsn,
    redoWalFile: fields.get("Latest checkpoint's REDO WAL file") || segmentOf(redoLsn),
    checkpointWalFile: segmentOf(checkpointLsn),
    checkpointTime: fields.get('Time of latest checkpoint') ?? null,
    walSegmentSize,
    dataChecksumVersion: Number(fields.get('Data page checksum version') ?? '0') || 0,
    catalogVersion: need('Catalog version number'),
    fullPageWrites: fields.get("Latest checkpoint's full_page_writes") !== 'off',
    walLogHints: fields.get('wal_log_hints setting') === 'on',
  };
}

/** Runs pg_controldata (as the postgres user, C locale) and parses it; a damaged pg_control is an error naming the file. */
export async function readControlData(ctx: Pick<EngineContext, 'exec' | 'signal'>, tools: PgToolConfig, dataDir: string): Promise<ControlData> {
  const result = await ctx.exec.run(join(tools.bin, 'pg_controldata'), ['-D', dataDir], { asUser: tools.osUser, env: { LC_ALL: 'C', TZ: 'UTC' }, signal: ctx.signal, timeoutMs: 60_000, allowFailure: true });
  // pg_controldata prints the fields even when pg_control's CRC is wrong, after a warning: a damaged file.
  const damaged = /calculated CRC checksum does not match|invalid|could not open/i.test(result.stderr);
  if (result.exitCode !== 0 || damaged) {
    throw new RecoverError('RESTORE_FAILED', `pg_controldata cannot read ${join(dataDir, 'global/pg_control')}: ${result.stderr.trim().split('\n')[0] || `exit ${result.exitCode}`}.`, {
      hint: 'The control file is missing or damaged: the server cannot start on this directory. Rebuild it from the base backup and WAL (recover crash --recover --from-backup).',
    });
  }
  return parseControlData(result.stdout);
}
