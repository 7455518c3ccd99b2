/**
 * The WAL only production's own pg_wal holds (not yet archived: storage was down, or archiving
 * lagged) is the difference between RPO 0 and losing the last minutes. Before a damaged data
 * directory is moved aside, that tail is copied to a safe directory beside it, read back with
 * pg_waldump (the copy must end exactly where the original's valid WAL ends), and archived
 * through the WAL agent's own checked path (push.ts: size, CRC and sha256 recorded; never over
 * different bytes): complete segments under their names, the partly written last one as
 * `<name>.partial`, as PostgreSQL itself archives the last segment of a timeline it leaves. The
 * restored directory then gets the saved segments in its pg_wal (marked archived), where
 * recovery reads them once the archive has nothing more: replay reaches the last commit.
 */
import { chown, copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { parseSegmentName, segmentStartLsn, formatLsn } from '../../catalog/segments.js';
import { RecoverError } from '../../errors.js';
import { compactUtcStamp } from '../../util/time.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { decodeArchivedFile, expectedFromMetadata } from '../../wal/archived-file.js';
import { pushWalFile, type PushOutcome } from '../../wal/push.js';
import type { EngineContext } from '../context.js';
import { unusedPath } from '../restore-layout.js';
import type { CrashConfig } from './gather.js';
import type { Triage } from './triage.js';
import { scanWal } from './wal-scan.js';

type Owner = { uid: number; gid: number } | undefined;

export interface SavedWal {
  /** Where the copies are kept (beside the data directory; never removed by recover-bot). */
  dir: string;
  segments: string[];
  /** The partly written last segment, archived as `<name>.partial`; null when the tail ends on a segment boundary. */
  partial: string | null;
  archived: { name: string; as: string; outcome: PushOutcome }[];
  /** The last record and end of valid WAL, as read back from the copies. */
  lastRecordLsn: string | null;
  endLsn: string | null;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Downloads what was just archived and checks it against the size and CRC recorded with it. */
async function checkArchived(ctx: EngineContext, as: string): Promise<void> {
  const key = `${ctx.storage.walPrefix}${as}`;
  const head = await ctx.storage.wal.head(key);
  if (!head) throw new RecoverError('STORAGE_ERROR', `WAL file ${as} was archived but is not in ${ctx.storage.wal.description}.`, { hint: 'Check the storage account, then run the recovery again.' });
  const stored = await readStreamToBuffer(await ctx.storage.wal.getStream(key, ctx.signal));
  await decodeArchivedFile(stored, { name: as, key, store: ctx.storage.wal }, expectedFromMetadata(head.metadata, head.size));
}

/**
 * Copies the triage's local-only segments out of `<dataDir>/pg_wal` into `<dataDir>.local-wal-<stamp>`,
 * checks the copies end where the original's valid WAL ends, and archives them (checked).
 * Production must be stopped (its WAL no longer changes). Throws before anything is archived
 * when the copies do not read back the same.
 */
export async function saveLocalWal(ctx: EngineContext, config: CrashConfig, triage: Triage): Promise<SavedWal> {
  const { control, localOnly } = triage;
  if (!control) throw new RecoverError('RESTORE_FAILED', 'The local WAL cannot be saved: pg_control is unreadable, so its timeline and end are unknown.', { hint: 'Copy pg_wal aside by hand before anything else.' });
  const dir = await unusedPath(`${triage.dataDir}.local-wal-${compactUtcStamp(ctx.clock.now())}`);
  await mkdir(dir, { mode: 0o700 });
  const saved: SavedWal = { dir, segments: [...localOnly.segments], partial: localOnly.partial, archived: [], lastRecordLsn: null, endLsn: null };
  if (saved.segments.length === 0) return saved;
  for (const name of saved.segments) {
    const copy = join(dir, name);
    await copyFile(join(triage.dataDir, 'pg_wal', name), copy, constants.COPYFILE_EXCL);
    await fsyncFile(copy);
  }
  await fsyncFile(dir);
  // Read back from the copies: they must hold the same valid WAL, to the same end.
  const first = parseSegmentName(saved.segments[0]!, control.walSegmentSize)!;
  const last = parseSegmentName(saved.segments.at(-1)!, control.walSegmentSize)!;
  const range = { start: formatLsn(segmentStartLsn(first.segno, control.walSegmentSize)), end: formatLsn(segmentStartLsn(last.segno + 1n, control.walSegmentSize)) };
  const check = await scanWal(ctx, config.pg, { walDir: dir, timeline: control.timeline, ...range, commitsFrom: null, relationsFrom: null, catalogVersion: control.catalogVersion });
  if (triage.wal.endLsn && check.endLsn !== triage.wal.endLsn) {
    throw new RecoverError('RESTORE_FAILED', `The copy of the local WAL in ${dir} ends at ${check.endLsn ?? 'nothing readable'}, but production's pg_wal reads to ${triage.wal.endLsn}; nothing was archived and production's directory was not moved.`, {
      hint: `Check the disk holding ${dir} (and its free space), then run the recovery again. Production's pg_wal is untouched.`,
    });
  }
  saved.lastRecordLsn = check.lastRecordLsn;
  saved.endLsn = check.endLsn;
  for (const name of saved.segments) {
    const as = name === saved.partial ? `${name}.partial` : name;
    const outcome = await pushWalFile(ctx.storage, ctx.log, join(dir, name), as, () => ctx.clock.now());
    await checkArchived(ctx, as);
    saved.archived.push({ name, as, outcome });
  }
  return saved;
}

/**
 * Puts the saved segments into a restored directory's pg_wal, owned by the postgres user, each
 * marked `.done` (it is archived: the restored server never archives it again, so its .partial
 * can never meet a different copy in the archive).
 */
export async function placeSavedWal(saved: SavedWal, dataDir: string, owner: Owner): Promise<void> {
  const walDir = join(dataDir, 'pg_wal');
  const statusDir = join(walDir, 'archive_status');
  await mkdir(statusDir, { recursive: true, mode: 0o700 });
  if (owner) await chown(statusDir, owner.uid, owner.gid);
  for (const name of saved.segments) {
    const target = join(walDir, name);
    await copyFile(join(saved.dir, name), target);
    const done = join(statusDir, `${name}.done`);
    await writeFile(done, '', { mode: 0o600 });
    if (owner) {
      await chown(target, owner.uid, owner.gid);
      await chown(done, owner.uid, owner.gid);
    }
  }
}
