/**
 * The lag rule of /recover failover (runbook §8.2), pure: how far the standby's replay is behind
 * what it received, and what to do about it at each sample. PostgreSQL replays everything the
 * standby received before a promotion completes, so what a failover loses is what the standby
 * never received; the rule is about not promoting a standby that is far behind blind: it waits
 * until everything received is replayed (the lag measured and shown), and only promotes a
 * standby still above the limit at the deadline when people accepted that window explicitly.
 */
import { parseLsn } from '../../catalog/segments.js';

/** One reading of the standby (pg_last_wal_receive_lsn / replay_lsn, pg_last_xact_replay_timestamp). */
export interface ReplaySample {
  /** Null: nothing was received by streaming (WAL came from the archive only): the replay position counts as received. */
  receivedLsn: string | null;
  replayedLsn: string | null;
  /** The commit time of the last transaction replayed (null: none since the server started). */
  lastReplayedCommit: Date | null;
  paused: boolean;
  at: Date;
}

/** Bytes received and not yet replayed (0 when caught up). */
export function bytesBehind(sample: ReplaySample): number {
  if (!sample.receivedLsn || !sample.replayedLsn) return 0;
  const behind = parseLsn(sample.receivedLsn) - parseLsn(sample.replayedLsn);
  return behind > 0n ? Number(behind) : 0;
}

/**
 * The apply lag in seconds: 0 when everything received is replayed; otherwise how old the last
 * replayed commit is (an upper bound: the newest received commit is not known without reading
 * the WAL); null when no commit was replayed yet (unknown counts as above any limit).
 */
export function applyLagSeconds(sample: ReplaySample): number | null {
  if (bytesBehind(sample) === 0) return 0;
  if (!sample.lastReplayedCommit) return null;
  return Math.max(0, (sample.at.getTime() - sample.lastReplayedCommit.getTime()) / 1000);
}

export interface LagRule {
  maxLagSeconds: number;
  /** --accept-data-loss: the lag people accepted, in seconds (null: not accepted). */
  acceptedLossSeconds: number | null;
}

export type LagDecision =
  | { action: 'promote'; why: string }
  | { action: 'resume'; why: string }
  | { action: 'wait'; why: string }
  | { action: 'refuse'; why: string };

const secondsText = (seconds: number | null) => (seconds === null ? 'unknown (no transaction replayed yet)' : `${Math.round(seconds)} s`);

/** What to do with this sample: `deadlinePassed` once the catch-up deadline (RECOVER_FAILOVER_CATCHUP_TIMEOUT_S) is over. */
export function lagDecision(sample: ReplaySample, rule: LagRule, deadlinePassed: boolean): LagDecision {
  const behind = bytesBehind(sample);
  const lag = applyLagSeconds(sample);
  if (sample.paused && behind > 0) return { action: 'resume', why: `replay is paused with ${behind} byte(s) received and not replayed` };
  if (behind === 0) return { action: 'promote', why: 'everything received is replayed' };
  if (!deadlinePassed) return { action: 'wait', why: `${behind} byte(s) to replay, apply lag ${secondsText(lag)}` };
  if (lag !== null && lag <= rule.maxLagSeconds) return { action: 'promote', why: `apply lag ${secondsText(lag)} is within the ${rule.maxLagSeconds} s limit; the ${behind} byte(s) left are replayed by the promotion itself` };
  if (rule.acceptedLossSeconds !== null && lag !== null && lag <= rule.acceptedLossSeconds) {
    return { action: 'promote', why: `apply lag ${secondsText(lag)} is above the ${rule.maxLagSeconds} s limit, within the ${rule.acceptedLossSeconds} s accepted with --accept-data-loss` };
  }
  const accepted = rule.acceptedLossSeconds === null ? '' : ` and above the ${rule.acceptedLossSeconds} s accepted with --accept-data-loss`;
  return { action: 'refuse', why: `apply lag ${secondsText(lag)} is above the ${rule.maxLagSeconds} s limit${accepted} at the deadline (${behind} byte(s) not replayed)` };
}

/** `90`, `90s`, `15m`, `2h` → seconds; null when it is none of these. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,6})(s|m|h)?$/.exec(text.trim());
  if (!match) return null;
  const factor = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * factor;
}
