/**
 * Choosing what a PITR restores, on the runner (or the CLI), before anything changes: the
 * pure selection over the catalog, then — for time targets that need the very end of the
 * usable WAL — a look into that WAL itself, because archive times overstate how far a time
 * target can reach (see wal-end.ts).
 */
import { RecoverError } from '../errors.js';
import type { Catalog } from '../catalog/catalog.js';
import { readCatalog } from './read-catalog.js';
import type { RecoveryTarget } from '../types.js';
import type { EngineContext, PgToolConfig } from './context.js';
import { describeTarget, reachableWal, restorableWindow, selectRestore, windowText, type RestoreSelection } from '../catalog/select-restore.js';
import { exactTargetTime, parseTargetTime } from '../catalog/targets.js';
import { lastTransactionEnd, type LastTransactionEnd } from './wal-end.js';

export interface PitrTargetRequest {
  target: RecoveryTarget;
  /** Inclusive unless false (an exclusive target may equal the last transaction's time). */
  inclusive?: boolean;
  backupId?: string;
}

/** One microsecond before `time` (text with offset +00:00): the newest inclusive target that restores. */
export function microBefore(time: string): string {
  const micros = parseTargetTime(time).epochMicros - 1n;
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000n).padStart(3, '0')}+00:00`;
}

/** Whether a time target stops somewhere at or before a transaction that ended at `lastEnd`. */
export function stopsBy(target: Extract<RecoveryTarget, { kind: 'time' }>, inclusive: boolean, lastEnd: string): boolean {
  const wanted = exactTargetTime(target).epochMicros;
  const last = parseTargetTime(lastEnd).epochMicros;
  return inclusive ? last > wanted : last >= wanted;
}

function unreachable(catalog: Catalog, target: RecoveryTarget, end: LastTransactionEnd, through: string, gapAt: string | null): RecoverError {
  const code = gapAt ? 'WAL_GAP' : 'TARGET_OUTSIDE_WINDOW';
  const what = gapAt
    ? `The target ${describeTarget(target)} lies behind a gap in the WAL archive: segment ${gapAt} is missing, so replay ends with segment ${through}`
    : `The target ${describeTarget(target)} is beyond the newest archived WAL: the archive ends with segment ${through}`;
  const window = restorableWindow(catalog, catalog.backups.at(-1)?.walSegmentSize ?? 16 * 1024 * 1024);
  // The window's end is what really restores: the last transaction, not the last archive time.
  const windowLine = windowText(end.time && window.earliest ? { ...window, latest: end.time } : window);
  if (!end.time) {
    return new RecoverError(code, `${what}, and no transaction ends after the target in the WAL before that.`, {
      hint: `${windowLine} ${gapAt ? 'Restore the missing segment into the archive, or choose an earlier target.' : 'Wait for archiving to catch up, or use --latest to replay everything archived.'}`,
    });
  }
  return new RecoverError(
    code,
    `${what}, whose last transaction ended at ${end.time} (in ${end.segment}). Recovery stops only at a transaction after the target, so it would run out of WAL.`,
    {
      hint: `${windowLine} The newest time that restores is ${microBefore(end.time)} (or ${end.time} with --exclusive)${gapAt ? '; or restore the missing segment into the archive first.' : `; --latest replays everything up to ${end.time}; or wait for archiving to catch up.`}`,
    },
  );
}

export async function selectPitr(ctx: EngineContext, catalog: Catalog, request: PitrTargetRequest, tools?: PgToolConfig): Promise<RestoreSelection> {
  const options = request.backupId ? { backupId: request.backupId } : {};
  const { target } = request;
  const inclusive = request.inclusive ?? true;
  let selection: RestoreSelection;
  try {
    selection = selectRestore(catalog, target, options);
  } catch (error) {
    // A refusal for WAL that runs out: replace the archive-time estimate with the WAL's own.
    if (tools && target.kind === 'time' && error instanceof RecoverError && (error.code === 'WAL_GAP' || error.code === 'TARGET_OUTSIDE_WINDOW')) {
      const reach = reachableWal(catalog, target, options);
      if (reach && reach.tail.length > 0) {
        const end = await lastTransactionEnd(ctx, tools, reach.tail);
        if (!end.time || !stopsBy(target, inclusive, end.time)) throw unreachable(catalog, target, end, reach.tail.at(-1)!, reach.gapAt);
      }
    }
    throw error;
  }
  // The stop record of a time target lies in a segment archived after the target; when the
  // first such segment is the last one that can replay, the stop record must be in it.
  if (tools && target.kind === 'time' && selection.requiredSegments.at(-1) === selection.contiguousEnd) {
    const end = await lastTransactionEnd(ctx, tools, selection.requiredSegments);
    if (!end.time || !stopsBy(target, inclusive, end.time)) {
      const reach = reachableWal(catalog, target, options);
      throw unreachable(catalog, target, end, selection.contiguousEnd, reach?.gapAt ?? null);
    }
  }
  return selection;
}

/** Reads the catalog and selects; with `tools`, also checks time targets against the WAL's contents. */
export async function planPitr(ctx: EngineContext, request: PitrTargetRequest, tools?: PgToolConfig): Promise<RestoreSelection> {
  const catalog = await readCatalog(ctx.storage, ctx.clock.now());
  return selectPitr(ctx, catalog, request, tools);
}
