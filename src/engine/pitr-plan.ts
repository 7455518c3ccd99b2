/**
 * Choosing what a PITR restores, on the runner (or the CLI), before anything changes: the
 * pure selection over the catalog, then — for time targets that need the very end of the
 * usable WAL — a look into that WAL itself, because archive times overstate how far a time
 * target can reach (see wal-end.ts).
 *
 * A refusal offers targets (a window, the newest time that restores, --latest): each one is
 * put through the same check as the operator's target before it is offered, so feeding an
 * offer back never meets the refusal again.
 */
import { RecoverError } from '../errors.js';
import type { BackupManifest, Catalog } from '../catalog/catalog.js';
import { indexSegments } from '../catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE } from '../catalog/segments.js';
import { readCatalog } from './read-catalog.js';
import type { RecoveryTarget } from '../types.js';
import type { EngineContext, PgToolConfig } from './context.js';
import { describeTarget, reachableWal, restorableWindow, selectRestore, windowText, type RestoreSelection } from '../catalog/select-restore.js';
import { exactTargetTime, parseTargetTime, timeTarget } from '../catalog/targets.js';
import { walCorrupt } from '../wal/archived-file.js';
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

/** A time target that runs out of readable WAL before its stop record, and what the WAL's end showed. */
interface ShortOfWal {
  end: LastTransactionEnd;
  /** The last segment that can replay (before a gap, or the newest archived). */
  through: string;
  gapAt: string | null;
  backup: BackupManifest | null;
}

type Checked = { selection: RestoreSelection } | { refusal: RecoverError } | { short: ShortOfWal };

/** The WAL's end for a list of segments, read once per planning: offers re-check the same WAL. */
type WalEnds = (segments: string[]) => Promise<LastTransactionEnd>;

const SCANNED_SEGMENTS = 8;

function walEnds(ctx: EngineContext, tools: PgToolConfig, catalog: Catalog): WalEnds {
  const read = new Map<string, Promise<LastTransactionEnd>>();
  const expected = indexSegments(catalog).byName;
  return (segments) => {
    const scanned = segments.slice(-SCANNED_SEGMENTS);
    const key = scanned.join(',');
    let end = read.get(key);
    if (!end) {
      end = lastTransactionEnd(ctx, tools, scanned, { maxSegments: SCANNED_SEGMENTS, expected });
      read.set(key, end);
    }
    return end;
  };
}

/**
 * The one check every target goes through, the operator's and every offered one: the catalog
 * selection, then for a time target the WAL's own end. Returns the refusal instead of throwing
 * it, so offers can be tested without building messages; storage and WAL damage still throw.
 */
async function checkTarget(catalog: Catalog, request: PitrTargetRequest, walEnd?: WalEnds, windowLine?: string): Promise<Checked> {
  const backupOption = request.backupId ? { backupId: request.backupId } : {};
  const { target } = request;
  const inclusive = request.inclusive ?? true;
  let selection: RestoreSelection;
  try {
    selection = selectRestore(catalog, target, { ...backupOption, ...(windowLine ? { windowLine } : {}) });
  } catch (error) {
    if (!(error instanceof RecoverError)) throw error;
    // A refusal for WAL that runs out: replace the archive-time estimate with the WAL's own.
    if (walEnd && target.kind === 'time' && (error.code === 'WAL_GAP' || error.code === 'TARGET_OUTSIDE_WINDOW')) {
      const reach = reachableWal(catalog, target, backupOption, SCANNED_SEGMENTS);
      if (reach && reach.tail.length > 0) {
        const end = await walEnd(reach.tail);
        if (!end.time || !stopsBy(target, inclusive, end.time)) return { short: { end, through: reach.tail.at(-1)!, gapAt: reach.gapAt, backup: reach.backup } };
      }
    }
    return { refusal: error };
  }
  // The stop record of a time target lies in a segment archived after the target; when the
  // first such segment is the last one that can replay, the stop record must be in it.
  if (walEnd && target.kind === 'time' && selection.requiredSegments.at(-1) === selection.contiguousEnd) {
    const end = await walEnd(selection.requiredSegments);
    if (!end.time || !stopsBy(target, inclusive, end.time)) {
      const reach = reachableWal(catalog, target, backupOption);
      return { short: { end, through: selection.contiguousEnd, gapAt: reach?.gapAt ?? null, backup: selection.backup } };
    }
  }
  return { selection };
}

type Accepts = (candidate: PitrTargetRequest) => Promise<boolean>;

function acceptance(catalog: Catalog, request: PitrTargetRequest, walEnd: WalEnds): Accepts {
  return async (candidate) => {
    try {
      return 'selection' in (await checkTarget(catalog, { ...candidate, ...(request.backupId ? { backupId: request.backupId } : {}) }, walEnd));
    } catch (error) {
      if (error instanceof RecoverError) return false; // an offer that cannot be checked is not made
      throw error;
    }
  };
}

const epochMicros = (time: string) => parseTargetTime(time).epochMicros;

/**
 * The restorable window for refusals, with ends that restore: the newest inclusive time is one
 * microsecond before the last transaction the WAL holds (not the last archive time), the
 * oldest the millisecond after a usable backup finished. Each end is put through the same
 * check as any target; backups are tried newest-first (oldest-first for the start) until one
 * passes, and an end that none passes is not offered.
 */
async function checkedWindowLine(catalog: Catalog, request: PitrTargetRequest, walEnd: WalEnds, accepts: Accepts): Promise<string> {
  const window = restorableWindow(catalog, catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE);
  if (!window.earliest || !window.latest) return windowText(window);
  const backups = request.backupId ? catalog.backups.filter((b) => b.id === request.backupId) : catalog.backups;
  let latest: string | null = null;
  for (const backup of [...backups].reverse()) {
    const reach = reachableWal(catalog, { kind: 'latest' }, { backupId: backup.id }, SCANNED_SEGMENTS);
    if (!reach || reach.tail.length === 0) continue;
    const end = await walEnd(reach.tail);
    if (end.time && (await accepts({ target: timeTarget(microBefore(end.time)), inclusive: true }))) {
      latest = microBefore(end.time);
      break;
    }
  }
  let earliest: string | null = null;
  for (const backup of backups) {
    const first = new Date(Date.parse(backup.stopTime) + 1).toISOString();
    if (await accepts({ target: timeTarget(first), inclusive: true })) {
      earliest = first;
      break;
    }
  }
  if (earliest && latest && epochMicros(earliest) <= epochMicros(latest)) return windowText({ ...window, earliest, latest });
  const others = [
    ...[earliest, latest].filter((time): time is string => time !== null).map((time) => `--at ${time}`),
    ...((await accepts({ target: { kind: 'latest' } })) ? ['--latest'] : []),
    ...((await accepts({ target: { kind: 'immediate' } })) ? ['--immediate'] : []),
  ];
  if (others.length === 0) return 'Nothing is restorable from the archive as it is: no base backup with WAL that replays to a target.';
  return `No range of times restores (no transaction in the readable WAL ends after a base backup finished); targets that restore: ${others.join(', ')}.`;
}

/** The WAL a target needs holds a record pg_waldump cannot read, in a segment before the end of the archive. */
async function damagedWal(ctx: EngineContext, request: PitrTargetRequest, short: ShortOfWal & { end: { damaged: { segment: string; reason: string } } }, accepts: Accepts): Promise<RecoverError> {
  const { end } = short;
  const { segment, reason } = end.damaged;
  const base = walCorrupt(
    { name: segment, key: `${ctx.storage.walPrefix}${segment}`, store: ctx.storage.wal },
    `pg_waldump stops at an invalid record in it (${reason}), though the archive holds WAL after it through ${short.through}`,
  );
  const newest = end.time ? microBefore(end.time) : null;
  const offer =
    newest && (await accepts({ target: timeTarget(newest), inclusive: true }))
      ? ` The last transaction before the damage ended at ${end.time} (in ${end.segment}); the newest time that restores is ${newest}.`
      : end.time
        ? ` The last transaction before the damage ended at ${end.time} (in ${end.segment}).`
        : '';
  return new RecoverError('WAL_CORRUPT', `The target ${describeTarget(request.target)} needs WAL past a damaged record. ${base.message}`, { hint: `${base.hint}${offer}` });
}

async function unreachable(ctx: EngineContext, catalog: Catalog, request: PitrTargetRequest, short: ShortOfWal, walEnd: WalEnds, accepts: Accepts): Promise<RecoverError> {
  const { end, through, gapAt, backup } = short;
  if (end.damaged) return damagedWal(ctx, request, { ...short, end: { ...end, damaged: end.damaged } }, accepts);
  const code = gapAt ? 'WAL_GAP' : 'TARGET_OUTSIDE_WINDOW';
  const what = gapAt
    ? `The target ${describeTarget(request.target)} lies behind a gap in the WAL archive: segment ${gapAt} is missing, so replay ends with segment ${through}`
    : `The target ${describeTarget(request.target)} is beyond the newest archived WAL: the archive ends with segment ${through}`;
  const windowLine = await checkedWindowLine(catalog, request, walEnd, accepts);
  const latestOk = !gapAt && (await accepts({ target: { kind: 'latest' } }));
  if (!end.time) {
    return new RecoverError(code, `${what}, and no transaction ends after the target in the WAL before that.`, {
      hint: `${windowLine} ${gapAt ? 'Restore the missing segment into the archive, or choose an earlier target.' : `Wait for archiving to catch up${latestOk ? ', or use --latest to replay everything archived' : ', or choose an earlier target'}.`}`,
    });
  }
  const newest = microBefore(end.time);
  const newestOk = await accepts({ target: timeTarget(newest), inclusive: true });
  const exclusiveOk = await accepts({ target: timeTarget(end.time), inclusive: false });
  const beforeBackup = backup !== null && epochMicros(end.time) <= BigInt(Date.parse(backup.stopTime)) * 1000n;
  const offer = newestOk
    ? `The newest time that restores is ${newest}${exclusiveOk ? ` (or ${end.time} with --exclusive)` : ''}`
    : exclusiveOk
      ? `The newest target that restores is ${end.time} with --exclusive`
      : `No time target up to that transaction restores${beforeBackup ? ` from base backup ${backup.id}: it ended before the backup finished (${backup.stopTime})` : ''}`;
  return new RecoverError(
    code,
    `${what}, whose last transaction ended at ${end.time} (in ${end.segment}). Recovery stops only at a transaction after the target, so it would run out of WAL.`,
    {
      hint: `${windowLine} ${offer}${gapAt ? '; or restore the missing segment into the archive first.' : `${latestOk ? `; --latest replays everything up to ${end.time}` : ''}; or wait for archiving to catch up.`}`,
    },
  );
}

export async function selectPitr(ctx: EngineContext, catalog: Catalog, request: PitrTargetRequest, tools?: PgToolConfig): Promise<RestoreSelection> {
  const walEnd = tools ? walEnds(ctx, tools, catalog) : undefined;
  const checked = await checkTarget(catalog, request, walEnd);
  if ('selection' in checked) return checked.selection;
  if (!walEnd) throw 'refusal' in checked ? checked.refusal : new Error('unreachable: a WAL-end refusal without tools');
  const accepts = acceptance(catalog, request, walEnd);
  if ('short' in checked) throw await unreachable(ctx, catalog, request, checked.short, walEnd, accepts);
  // A refusal of the catalog's: the same words, with a window whose ends were checked.
  const catalogWindow = windowText(restorableWindow(catalog, catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE));
  if (!checked.refusal.hint?.includes(catalogWindow)) throw checked.refusal;
  const again = await checkTarget(catalog, request, undefined, await checkedWindowLine(catalog, request, walEnd, accepts));
  throw 'refusal' in again ? again.refusal : checked.refusal;
}

/** Reads the catalog and selects; with `tools`, also checks time targets against the WAL's contents. */
export async function planPitr(ctx: EngineContext, request: PitrTargetRequest, tools?: PgToolConfig): Promise<RestoreSelection> {
  const catalog = await readCatalog(ctx.storage, ctx.clock.now());
  return selectPitr(ctx, catalog, request, tools);
}
