/**
 * The RPO watch's decisions, pure: what the archiving facts say (ok / exposed / failing), and,
 * from the alert as the control DB holds it, whether to post an alert, a reminder, a recovery
 * notice or nothing; and the notices' text. The watch (watch.ts) reads the facts and claims the
 * change; the bot posts the notice (slack/flows/rpo-notices.ts).
 */
import { formatDuration } from '../../util/format.js';

export type ArchivingState = 'ok' | 'exposed' | 'failing';
export type NoticeKind = 'alert' | 'reminder' | 'recovered';

/** What the watch read: the catalog's newest archived WAL, and production's pg_stat_archiver (null: production not readable). */
export interface ArchivingFacts {
  production: string;
  /** Seconds since the newest segment archived to storage (catalog rpoExposureSeconds); null: none there, or storage not readable. */
  exposureSeconds: number | null;
  archiver: { failedCount: number; lastFailedWal: string | null; lastFailedTime: string | null; lastArchivedWal: string | null; lastArchivedTime: string | null } | null;
  /** Production's current WAL file (null on a standby or when unreadable). */
  currentWal: string | null;
  /** Why production or storage could not be read, if so. */
  unreadable?: string;
  segmentSize?: number;
}

export interface Assessment {
  state: ArchivingState;
  exposureSeconds: number | null;
  /** Segments written but not archived yet (the `.ready` backlog), from the current and last archived WAL names. */
  backlog: number | null;
  /** One line per finding, for the notice. */
  reasons: string[];
}

/** The alert row as read (control/rpo-alerts.ts). */
export interface AlertRow {
  open: boolean;
  /** Seconds since the alert or its last reminder (null: none). */
  sinceNoticeSeconds: number | null;
  version: number;
}

const SEGMENT = 16 * 1024 * 1024;

/** A WAL file name's segment number (timeline ignored; a backup history file `….backup` or `.partial` counts as its segment), or null for anything else. */
export function walSegno(name: string | null, segmentSize = SEGMENT): number | null {
  const match = name ? /^[0-9A-F]{8}([0-9A-F]{8})([0-9A-F]{8})(\.[\w.]+)?$/.exec(name) : null;
  if (!match) return null;
  return Number.parseInt(match[1]!, 16) * Math.floor(0x1_0000_0000 / segmentSize) + Number.parseInt(match[2]!, 16);
}

/** Failing: the archiver's most recent attempt failed (its last failure is newer than its last success). */
function archivingFails(archiver: NonNullable<ArchivingFacts['archiver']>): boolean {
  if (!archiver.lastFailedTime) return false;
  return !archiver.lastArchivedTime || Date.parse(archiver.lastFailedTime) > Date.parse(archiver.lastArchivedTime);
}

export function assess(facts: ArchivingFacts, rpoSeconds: number): Assessment {
  const { archiver, exposureSeconds } = facts;
  const current = walSegno(facts.currentWal, facts.segmentSize);
  const archived = walSegno(archiver?.lastArchivedWal ?? null, facts.segmentSize);
  // The segment being written is not ready yet; everything between it and the last archived one is
  // (right after a switch, at the boundary, pg_walfile_name names the segment before: one fewer).
  const backlog = current !== null && archived !== null ? Math.max(0, current - archived - 1) : null;
  const reasons: string[] = [];
  let state: ArchivingState = 'ok';
  if (archiver && archivingFails(archiver)) {
    state = 'failing';
    reasons.push(`archiving fails: ${archiver.failedCount} failure${archiver.failedCount === 1 ? '' : 's'} so far, the last at ${archiver.lastFailedTime}${archiver.lastFailedWal ? ` (WAL ${archiver.lastFailedWal})` : ''}`);
  }
  if (exposureSeconds === null) {
    if (state === 'ok') state = 'exposed';
    reasons.push('no archived WAL found in storage');
  } else if (exposureSeconds > rpoSeconds) {
    if (state === 'ok') state = 'exposed';
    reasons.push(`the newest archived WAL is ${formatDuration(exposureSeconds)} old, over the RPO of ${formatDuration(rpoSeconds)}`);
  }
  if (backlog !== null && backlog > 0 && state !== 'ok') reasons.push(`${backlog} WAL segment${backlog === 1 ? '' : 's'} waiting to be archived (.ready)`);
  if (facts.unreadable && state !== 'ok') reasons.push(`not readable: ${facts.unreadable}`);
  return { state, exposureSeconds, backlog, reasons };
}

/** What to post now: an alert when it turns bad, a reminder every `reminderSeconds` while bad, a recovery notice when it is ok again. */
export function decide(state: ArchivingState, row: AlertRow, reminderSeconds: number): NoticeKind | null {
  const bad = state !== 'ok';
  if (bad && !row.open) return 'alert';
  if (bad && row.open && (row.sinceNoticeSeconds === null || row.sinceNoticeSeconds >= reminderSeconds)) return 'reminder';
  if (!bad && row.open) return 'recovered';
  return null;
}

const WHAT_TO_RUN = 'Run `/recover preflight` to see what archiving lacks; if pg_wal is filling production\'s disk, `/recover disk`.';

/** The notice's text (Slack mrkdwn; the bot posts it as it is). */
export function noticeText(kind: NoticeKind, production: string, assessment: Assessment, rpoSeconds: number): string {
  if (kind === 'recovered') {
    const age = assessment.exposureSeconds === null ? '' : ` (newest archived WAL ${formatDuration(assessment.exposureSeconds)} old)`;
    return `:white_check_mark: RPO watch: archiving of *${production}* is back within the RPO of ${formatDuration(rpoSeconds)}${age}.`;
  }
  const head = kind === 'alert'
    ? `:rotating_light: RPO watch: *${production}* is ${assessment.state === 'failing' ? 'failing to archive WAL' : 'past its RPO'}: a disaster now would lose more than ${formatDuration(rpoSeconds)} of data.`
    : `:hourglass: RPO watch, reminder: *${production}* is still ${assessment.state === 'failing' ? 'failing to archive WAL' : 'past its RPO'}.`;
  return [head, ...assessment.reasons.map((r) => `• ${r}`), WHAT_TO_RUN].join('\n');
}
