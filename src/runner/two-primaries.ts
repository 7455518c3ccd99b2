/**
 * The two-primaries watchdog of `recover runner` (issue 21): after a failover, the old primary
 * may come back writable beside the new one. Every RECOVER_RPO_CHECK_SECONDS, where production
 * (RECOVER_SOURCE_URL) and DR (RECOVER_STANDBY_URL) are both configured, it asks both whether they
 * are in recovery. Both writable: the one on the older timeline (the old primary) is fenced — the
 * RECOVER_FAILOVER_FENCE_COMMAND hook, or pg_ctl stop -m fast where its data directory is on this
 * host — and an alert is posted. The alert rides on the RPO watch's records (control/rpo-alerts.ts,
 * keyed `two-primaries:<production>`): one runner of the pool writes each notice, once, and a
 * recovery notice when only one primary is left.
 */
import type pg from 'pg';
import { claimRpoTransition, readRpoAlert } from '../control/rpo-alerts.js';
import type { Config } from '../config.js';
import type { Exec } from '../engine/exec.js';
import { failoverConfig, labelOf } from '../engine/failover/facts.js';
import { localDirMismatch, readServerIdentity } from '../engine/local-identity.js';
import { sideConnection, type Side } from '../engine/failover/switchover-facts.js';
import { pgCtlStopArgs } from '../engine/pg-args.js';
import { withTargetClient } from '../engine/pg-client.js';
import type { Logger } from '../types.js';
import { decide, type NoticeKind } from './rpo/state.js';
import { periodicWatch, type PeriodicWatch } from './rpo/periodic.js';

export interface PrimaryProbe {
  side: Side;
  label: string;
  /** null: it does not answer (or is not configured). */
  writable: boolean | null;
  timeline: number | null;
}

export interface Verdict {
  state: 'ok' | 'failing';
  /** The side to fence: the writable one on the older timeline (production on a tie: the fence hook's target). */
  fence: Side | null;
  text: string;
}

/** Pure: what two probes mean. */
export function twoPrimaries(production: PrimaryProbe, dr: PrimaryProbe): Verdict {
  if (!(production.writable && dr.writable)) return { state: 'ok', fence: null, text: 'at most one server accepts writes' };
  const older = (dr.timeline ?? 0) < (production.timeline ?? 0) ? dr : production;
  const newer = older === dr ? production : dr;
  return { state: 'failing', fence: older.side, text: `${older.label} (${older.side === 'dr' ? 'DR' : 'production'}, timeline ${older.timeline ?? '?'}) accepts writes beside ${newer.label} (timeline ${newer.timeline ?? '?'})` };
}

/** Pure: the notice (Slack mrkdwn). */
export function twoPrimariesText(kind: NoticeKind, production: string, verdict: Verdict, fenced: string): string {
  if (kind === 'recovered') return `:white_check_mark: *${production}*: only one server accepts writes again.`;
  return `:rotating_light: *${production}: TWO PRIMARIES* — ${verdict.text}. ${fenced} Writes on the fenced server after the failover are not on the new primary: \`/recover failback\` rewinds it as a standby.`;
}

const TIMELINE_SQL = "SELECT NOT pg_is_in_recovery() AS writable, CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli";

async function probe(config: Config, side: Side, log: Logger): Promise<PrimaryProbe> {
  const connection = { ...sideConnection(config, side), connectionTimeoutMillis: 5000 };
  try {
    const row = (await withTargetClient(connection, (c) => c.query(TIMELINE_SQL), log)).rows[0];
    return { side, label: labelOf(connection), writable: Boolean(row.writable), timeline: row.tli === null ? null : Number(row.tli) };
  } catch {
    // Not answering is the normal state of a fenced or lost server: a fact of this look, not an error.
    return { side, label: labelOf(connection), writable: null, timeline: null };
  }
}

/** Fences `side`; returns what was done, in words for the notice. */
async function fence(config: Config, exec: Exec, side: Side, log: Logger): Promise<string> {
  const settings = failoverConfig(config);
  try {
    if (side === 'production' && settings.fenceCommand) {
      const [file, ...args] = settings.fenceCommand;
      await exec.run(file!, args, { timeoutMs: 300_000 });
      return 'Fenced with RECOVER_FAILOVER_FENCE_COMMAND.';
    }
    const dataDir = side === 'production' ? config.source.dataDir : settings.standbyDataDir;
    if (!dataDir) return `*Not fenced*: no fence for it on this runner (${side === 'production' ? 'RECOVER_FAILOVER_FENCE_COMMAND or RECOVER_SOURCE_DATA_DIR' : 'RECOVER_STANDBY_DATA_DIR'}) — stop it now by hand.`;
    // pg_ctl stop -D stops whatever runs there: only when it is this server's directory.
    const setting = side === 'production' ? 'RECOVER_SOURCE_DATA_DIR' : 'RECOVER_STANDBY_DATA_DIR';
    const problem = await withTargetClient({ ...sideConnection(config, side), connectionTimeoutMillis: 5000 }, async (c) => localDirMismatch(dataDir, setting, await readServerIdentity(c)), log);
    if (problem) return `*Not fenced*: ${problem} — stop it now by hand.`;
    const [file, args] = pgCtlStopArgs(config.pg.bin, dataDir, 'fast', 120);
    await exec.run(file, args, { asUser: config.pg.osUser, timeoutMs: 130_000 });
    return `Fenced: pg_ctl stop -m fast on ${dataDir}.`;
  } catch (error) {
    log.error({ err: error, side }, 'two-primaries watchdog: the fence failed');
    return `*The fence FAILED* (${(error as Error).message.split('\n')[0]}) — stop it now by hand.`;
  }
}

export type TwoPrimariesWatch = PeriodicWatch;

export function twoPrimariesWatch(options: { config: Config; control: pg.Pool; exec: Exec; log: Logger }): TwoPrimariesWatch | null {
  const { config, control, exec, log } = options;
  if (!config.source.url || !config.failover?.standbyUrl) return null;
  const key = `two-primaries:${config.productionName ?? 'production'}`;
  async function check(): Promise<NoticeKind | null> {
    const [production, dr] = await Promise.all([probe(config, 'production', log), probe(config, 'dr', log)]);
    const verdict = twoPrimaries(production, dr);
    const fenced = verdict.fence ? await fence(config, exec, verdict.fence, log) : '';
    const row = await readRpoAlert(control, config.pool, key);
    const kind = decide(verdict.state, row, config.alerts.reminderSeconds);
    const notice = kind ? { kind, text: twoPrimariesText(kind, config.productionName ?? 'production', verdict, fenced) } : null;
    const { claimed } = await claimRpoTransition(control, { pool: config.pool, production: key, version: row.version, state: verdict.state, exposureSeconds: null, notice });
    if (verdict.fence) log.error({ verdict, fenced }, 'two-primaries watchdog: two servers accept writes');
    return claimed ? kind : null;
  }
  return periodicWatch('two-primaries watchdog', config.alerts.checkSeconds, check, log);
}
