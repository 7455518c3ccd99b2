/**
 * The RPO watch of `recover runner` (issue 23): every RECOVER_RPO_CHECK_SECONDS it reads what
 * the preflight reads about archiving (production's pg_stat_archiver through PREFLIGHT_SQL, the
 * newest archived WAL: the whole catalog now and then, in between only the names that can be
 * newer, newest-wal.ts), decides (state.ts) and claims the change in the control DB
 * (control/rpo-alerts.ts). Every runner of the pool looks; the claim makes one of them write each
 * notice, and the bot posts it to RECOVER_ALERT_CHANNEL (the runner has no Slack token).
 * A look that fails (control DB away) is logged and tried at the next interval.
 */
import type pg from 'pg';
import { PREFLIGHT_SQL, productionFactsOf } from '../../../commands/preflight/facts.js';
import { rpoExposureSeconds } from '../../catalog/coverage.js';
import { claimRpoTransition, readRpoAlert } from '../../control/rpo-alerts.js';
import type { Config } from '../../config.js';
import { withTargetClient } from '../../engine/pg-client.js';
import { readCatalog } from '../../engine/read-catalog.js';
import type { Storage } from '../../storage/blob-store.js';
import type { Clock, Logger } from '../../types.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { assess, decide, noticeText, type ArchivingFacts, type NoticeKind } from './state.js';
import { newestWalReader, type NewestWal } from './newest-wal.js';
import { periodicWatch, type PeriodicWatch } from './periodic.js';

export interface RpoWatchOptions {
  config: Config;
  control: pg.Pool;
  storage: Storage;
  clock: Clock;
  log: Logger;
  /** The facts (tests); default: production and storage as configured. */
  readFacts?: () => Promise<ArchivingFacts>;
}

export type RpoWatch = PeriodicWatch;

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/**
 * Production's archiver and storage's newest archived WAL; what cannot be read is said, not
 * thrown. `newest`: the watch's incremental reader (newest-wal.ts); without it the whole catalog.
 */
export async function readArchivingFacts(config: Config, storage: Storage, now: Date, log: Logger, newest?: (now: Date) => Promise<NewestWal>): Promise<ArchivingFacts> {
  const production = config.productionName ?? 'production';
  const unreadable: string[] = [];
  let archiver: ArchivingFacts['archiver'] = null;
  let currentWal: string | null = null;
  if (config.source.url) {
    try {
      const row = await withTargetClient(pgClientConfig(parseConnectionUrl(config.source.url)), async (client) => (await client.query(PREFLIGHT_SQL)).rows[0] as Record<string, unknown>, log);
      const facts = productionFactsOf(row);
      archiver = facts.archiver;
      currentWal = facts.currentWal;
    } catch (error) {
      unreadable.push(`production (${firstLine(error)})`);
    }
  }
  let exposureSeconds: number | null = null;
  let segmentSize: number | undefined;
  try {
    if (newest) ({ exposureSeconds, segmentSize } = await newest(now));
    else {
      const catalog = await readCatalog(storage, now);
      exposureSeconds = rpoExposureSeconds(catalog, now);
      segmentSize = catalog.backups.at(-1)?.walSegmentSize;
    }
  } catch (error) {
    unreadable.push(`storage (${firstLine(error)})`);
  }
  return { production, exposureSeconds, archiver, currentWal, ...(unreadable.length ? { unreadable: unreadable.join('; ') } : {}), ...(segmentSize ? { segmentSize } : {}) };
}

export function rpoWatch(options: RpoWatchOptions): RpoWatch {
  const { config, control, log } = options;
  const rpoSeconds = config.objectives.rpoSeconds;
  const newest = newestWalReader(options.storage);
  const read = options.readFacts ?? (() => readArchivingFacts(config, options.storage, options.clock.now(), log, newest));

  async function check(): Promise<NoticeKind | null> {
    const facts = await read();
    const assessment = assess(facts, rpoSeconds);
    const row = await readRpoAlert(control, config.pool, facts.production);
    const kind = decide(assessment.state, row, config.alerts.reminderSeconds);
    const notice = kind ? { kind, text: noticeText(kind, facts.production, assessment, rpoSeconds) } : null;
    const { claimed } = await claimRpoTransition(control, { pool: config.pool, production: facts.production, version: row.version, state: assessment.state, exposureSeconds: assessment.exposureSeconds, notice });
    if (!claimed || !kind) return null;
    log[kind === 'recovered' ? 'info' : 'warn']({ production: facts.production, state: assessment.state, reasons: assessment.reasons }, `RPO watch: ${kind} recorded for the alert channel`);
    return kind;
  }

  return periodicWatch('RPO watch', config.alerts.checkSeconds, check, log);
}
