/**
 * The estimates of a restore's two measured phases for a chosen base backup and WAL (pure):
 * what pitr's plan shows and what rows, table and database can show for their side restore.
 */
import { parseLsn, parseSegmentName, segmentStartLsn } from '../catalog/segments.js';
import type { RestoreSelection } from '../catalog/select-restore.js';
import type { StepEstimate } from '../types.js';
import { estimatedSeconds, phaseEstimate, type MeasuredRates } from './rates.js';

/** Bytes of the base backup's files. */
export function baseBackupBytes(selection: Pick<RestoreSelection, 'backup'>): number {
  return selection.backup.files.reduce((sum, file) => sum + file.bytes, 0);
}

/**
 * The WAL replay progress counts: from the backup's start LSN to the end of the last needed
 * segment (as src/engine/restore-to-target.ts reports it). A target inside that WAL stops earlier.
 */
export function replayBytes(selection: Pick<RestoreSelection, 'backup' | 'requiredSegments' | 'walBytes'>): number {
  const size = selection.backup.walSegmentSize;
  const last = selection.requiredSegments.at(-1);
  const parsed = last ? parseSegmentName(last, size) : null;
  if (!parsed) return selection.walBytes;
  return Number(segmentStartLsn(parsed.segno + 1n, size) - parseLsn(selection.backup.startLsn));
}

export interface RestoreEstimates {
  base: { estimate: StepEstimate; seconds: number };
  replay: { estimate: StepEstimate; seconds: number };
}

export function restoreEstimates(selection: Pick<RestoreSelection, 'backup' | 'requiredSegments' | 'walBytes'>, rates: MeasuredRates | undefined): RestoreEstimates {
  const base = phaseEstimate('restore-base-backup', baseBackupBytes(selection), rates);
  const replay = phaseEstimate('replay-wal', replayBytes(selection), rates);
  return { base: { estimate: base, seconds: estimatedSeconds(base) }, replay: { estimate: replay, seconds: estimatedSeconds(replay) } };
}
