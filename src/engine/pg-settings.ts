/**
 * Builders (pure) for the settings a restored cluster starts with. Written into
 * postgresql.auto.conf, which PostgreSQL reads last, so they override the backup's own.
 */
import { formatLsn } from '../catalog/segments.js';
import { exactTargetTime } from '../catalog/targets.js';
import type { RecoveryTarget, TargetAction } from '../types.js';

import { confQuote, shellQuote } from '../util/quote.js';

export { confQuote, shellQuote };

export interface RecoverySettingsInput {
  target: RecoveryTarget;
  inclusive: boolean;
  action: TargetAction;
  restoreCommand: string;
  /** Where a side instance listens; omitted in place, where production's own settings stay. */
  listen?: { port: number; socketDir: string; addresses: string };
  /** The timeline the WAL chain was checked on; 'latest' when not given. */
  timeline?: number;
  /** For side instances: archiving off, so the new timeline never reaches production's archive. */
  archiving: 'off' | 'keep';
}

export function recoverySettings(input: RecoverySettingsInput): Record<string, string> {
  const settings: Record<string, string> = {
    restore_command: input.restoreCommand,
    // Pinned to the timeline whose WAL chain was checked: 'latest' could pick a newer branch
    // the chosen backup is not an ancestor of.
    recovery_target_timeline: input.timeline === undefined ? 'latest' : String(input.timeline),
  };
  if (input.listen) {
    settings.port = String(input.listen.port);
    settings.unix_socket_directories = input.listen.socketDir;
    settings.listen_addresses = input.listen.addresses;
  }
  const { target } = input;
  switch (target.kind) {
    case 'time':
      // Exactly as given, microseconds and offset included (a JS Date would keep only milliseconds).
      // PostgreSQL refuses zone abbreviations here, and takes "Z" for one: UTC is written +00:00.
      settings.recovery_target_time = exactTargetTime(target).text.replace('T', ' ').replace(/Z$/, '+00:00');
      break;
    case 'xid':
      settings.recovery_target_xid = target.xid;
      break;
    case 'lsn':
      settings.recovery_target_lsn = formatLsn(target.lsn);
      break;
    case 'name':
      settings.recovery_target_name = target.name;
      break;
    case 'immediate':
      settings.recovery_target = 'immediate';
      break;
    case 'latest':
      break;
  }
  if (target.kind !== 'latest') {
    settings.recovery_target_action = input.action;
    if (target.kind !== 'immediate' && target.kind !== 'name') settings.recovery_target_inclusive = input.inclusive ? 'on' : 'off';
  }
  if (input.archiving === 'off') {
    settings.archive_mode = 'off';
    settings.archive_command = '';
  }
  return settings;
}

/**
 * Replay-only settings. PostgreSQL's single startup process replays every WAL record and the
 * whole restore waits on it; these settings serve replay alone. They are written as their own
 * block of postgresql.auto.conf (REPLAY_ONLY_HEADER) and taken out again once replay has ended
 * (replay-tuning.ts), so the instance runs on production's (or the defaults') own settings.
 * Measured one lever at a time with bench/replay.ts, and by restoring the same WAL again and
 * again (numbers in bench/replay.ts's header):
 * - Restartpoints often, every 256 MB of WAL (max_wal_size; at least 16 segments), with
 *   wal_recycle=off: a restored segment stays in pg_wal until a restartpoint removes it, so
 *   with restartpoints rare (the previous tuning: max_wal_size 64GB) every replayed byte of WAL
 *   sat in the page cache as dirty data (2.2 GB, the kernel's background-writeback line, for
 *   225 segments), the kernel wrote back WAL that was about to be deleted, and the startup
 *   process spent ~3.7 s of a 12.3 s redo neither running nor waiting for a CPU (~1.7 s now).
 *   With frequent restartpoints the segments are unlinked soon after replay (recycled instead,
 *   they would stay as future segments). 225 segments of TPC-B WAL: replay step 10.4-10.9 s
 *   against 14.0-15.1 s, redo elapsed 9.2 s against 12.3 s; with fsync on as well (14.1-15.2 s
 *   against 15.8-16.6 s). A restartpoint can only happen at a checkpoint record, so production's
 *   own checkpoint spacing still bounds how much WAL piles up. checkpoint_timeout stays out of
 *   the way: restartpoints come from the WAL's volume.
 * - fsync=off, only where the instance can be synced before anyone is told of it (a side
 *   instance that promotes): replay and its restartpoints no longer wait on the disk; after
 *   promotion it is reloaded with fsync on and its file systems synced while it runs
 *   (replay-tuning.ts, sync-restored.ts; a sync of the extracted base runs during replay).
 *   Never in place (production's clients may write as soon as it promotes) and never for a
 *   paused instance (it is handed over running, in recovery).
 * Left out, measured: shared_buffers (512MB or 1GB cut the startup process's CPU by ~1 s but not
 * the replay's time, and needs a restart); recovery_prefetch (on by default as 'try'; 'off', or
 * more maintenance_io_concurrency and wal_decode_buffer_size, changed nothing measurable).
 * full_page_writes only shapes WAL a server writes; a recovering one writes none.
 */
export const REPLAY_ONLY_HEADER = 'recover-bot: replay-only settings, removed when replay has ended';

export interface ReplayTuning {
  /** The instance can be stopped, synced and started again before anyone is told of it (side, promote). */
  syncBeforeHandover: boolean;
  /** The cluster's WAL segment size in bytes (max_wal_size must hold at least two). */
  walSegmentSize: number;
}

const MIB = 1024 * 1024;

export function replayOnlySettings(tuning: ReplayTuning): Record<string, string> {
  return {
    checkpoint_timeout: '1d',
    max_wal_size: `${Math.max(256, 16 * Math.ceil(tuning.walSegmentSize / MIB))}MB`,
    wal_recycle: 'off',
    ...(tuning.syncBeforeHandover ? { fsync: 'off' } : {}),
  };
}

export function renderConf(settings: Record<string, string>, header: string): string {
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${/^[0-9]+$/.test(value) ? value : confQuote(value)}`);
  return `\n# ${header}\n${lines.join('\n')}\n`;
}

/**
 * restore_command: take the segment from the spool by rename. While the prefetch still has
 * it on the way (its `.planned` marker exists), retry every 10 ms for up to ~10 s; otherwise
 * (history files, the probe past the end of WAL, a failed download) ask the WAL agent.
 */
export function spoolRestoreCommand(input: { spoolDir: string; nodePath: string; hookPath: string; socketPath: string; waitInShell?: boolean }): string {
  const spooled = `${shellQuote(`${input.spoolDir}/`)}"%f"`;
  const fromAgent = `exec ${shellQuote(input.nodePath)} ${shellQuote(input.hookPath)} fetch ${shellQuote(input.socketPath)} "%f" "%p"`;
  // Without the shell wait, a segment still on its way is waited for by the agent (benchmarks compare both).
  if (input.waitInShell === false) return `mv -f ${spooled} "%p" 2>/dev/null || ${fromAgent}`;
  return `f=${spooled}; n=0; until mv -f "$f" "%p" 2>/dev/null; do if [ -e "$f.planned" ] && [ $n -lt 1000 ]; then n=$((n+1)); sleep 0.01; else ${fromAgent}; fi; done`;
}
