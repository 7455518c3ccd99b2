/**
 * The preflight's verdicts (runbook §1.1, §9), pure: from what was read of production, the
 * archive, the backups and the runner's disks, each item is pass / warn / fail / skip with
 * what to do. Gathering is in facts.ts; the command (index.ts) shows them.
 */
import { parseSegmentName } from '../../src/catalog/segments.js';
import { gigabytes, restoreBytesNeeded, type SpaceFacts } from '../../src/engine/space.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do (absent on pass). */
  fix?: string;
}

/** What production says about itself (RECOVER_SOURCE_URL); null when it could not be asked. */
export interface ProductionFacts {
  walLevel: string;
  archiveMode: string;
  /** Null: not readable for this role (pg_settings hides it). */
  archiveCommand: string | null;
  inRecovery: boolean;
  currentWal: string | null;
  archiver: { archivedCount: number; lastArchivedWal: string | null; lastArchivedTime: string | null; failedCount: number; lastFailedWal: string | null; lastFailedTime: string | null };
  role: { name: string; superuser: boolean; replication: boolean; createDb: boolean; readAllSettings: boolean; signalBackend: boolean; backupFunctions: boolean };
}

export interface BackupFacts {
  id: string;
  stopTime: string;
  databaseBytes: number;
  /** Manifest files missing from storage, or stored with another size. */
  problems: string[];
}


export interface PreflightFacts {
  production: ProductionFacts | { error: string } | null;
  storage: { error: string } | null;
  backups: { newest: BackupFacts | null; count: number; unreadable: string[] };
  /** From the newest backup's start: the first missing segment, or null (no gap). */
  walGapAt: string | null;
  /** The newest segment archived on the newest backup's timeline path. */
  walReachesTo: string | null;
  /** WAL archived after the newest backup started, in bytes (what a restore of it replays). */
  walBytesSinceBackup: number;
  rpoExposureSeconds: number | null;
  rpoObjectiveSeconds: number;
  /** The WAL agent's socket: an archive_command naming it (or `recover wal-push`) is this tool's. */
  agentSocket: string;
  segmentSize: number;
  restoreRoot: SpaceFacts | null;
  /** Beside production's data directory (in place keeps the old one there): only on the database host. */
  dataDir: SpaceFacts | null;
}

const minutes = (seconds: number) => (seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);

/** Segments between two WAL file names on one timeline (null when not comparable). Pure. */
export function segmentsBehind(current: string | null, archived: string | null, segmentSize: number): number | null {
  const a = current ? parseSegmentName(current, segmentSize) : null;
  const b = archived ? parseSegmentName(archived, segmentSize) : null;
  if (!a || !b || a.timeline !== b.timeline) return null;
  return Number(a.segno - b.segno);
}


function productionChecks(facts: PreflightFacts): Check[] {
  const production = facts.production;
  const names = ['wal_level', 'archive_mode', 'archive_command', 'archiver', 'roles'];
  if (production === null) return names.map((name) => ({ name, status: 'skip', detail: 'RECOVER_SOURCE_URL is not set on this runner', fix: 'Set RECOVER_SOURCE_URL to check production itself.' }));
  if ('error' in production) {
    return [
      { name: 'production', status: 'fail', detail: `cannot connect: ${production.error}`, fix: 'If production is down, see /recover crash or /recover disk; else check RECOVER_SOURCE_URL and pg_hba.conf.' },
      ...names.map((name): Check => ({ name, status: 'skip', detail: 'production did not answer' })),
    ];
  }
  const checks: Check[] = [];
  checks.push(production.walLevel === 'minimal'
    ? { name: 'wal_level', status: 'fail', detail: 'minimal: WAL cannot rebuild a base backup', fix: 'Set wal_level = replica in postgresql.conf, then restart PostgreSQL.' }
    : { name: 'wal_level', status: 'pass', detail: production.walLevel });
  checks.push(['on', 'always'].includes(production.archiveMode)
    ? { name: 'archive_mode', status: 'pass', detail: production.archiveMode }
    : { name: 'archive_mode', status: 'fail', detail: `${production.archiveMode}: nothing is archived, no point-in-time recovery is possible`, fix: 'Set archive_mode = on in postgresql.conf: it needs a RESTART (a reload is not enough); set archive_command with the lines `recover wal-agent` prints.' });
  const command = production.archiveCommand;
  if (command === null) checks.push({ name: 'archive_command', status: 'warn', detail: 'not readable for this role', fix: `GRANT pg_read_all_settings TO ${production.role.name};` });
  else if (command.trim() === '') checks.push({ name: 'archive_command', status: 'fail', detail: 'empty: WAL is kept in pg_wal and never archived', fix: 'Set it to the archive_command line `recover wal-agent` prints, then SELECT pg_reload_conf();' });
  else if (command.includes(facts.agentSocket) || /\bwal-push\b/.test(command)) checks.push({ name: 'archive_command', status: 'pass', detail: "archives through recover-bot's WAL agent" });
  else checks.push({ name: 'archive_command', status: 'warn', detail: `archives with another tool (${command.slice(0, 120)})`, fix: 'recover-bot restores only the WAL it can read in its container; use the archive_command line `recover wal-agent` prints.' });

  const a = production.archiver;
  const behind = segmentsBehind(production.currentWal, a.lastArchivedWal, facts.segmentSize);
  const failing = a.failedCount > 0 && a.lastFailedTime !== null && (a.lastArchivedTime === null || a.lastFailedTime > a.lastArchivedTime);
  if (failing) {
    checks.push({ name: 'archiver', status: 'fail', detail: `failing: last failure ${a.lastFailedTime} on ${a.lastFailedWal}, last success ${a.lastArchivedTime ?? 'never'} (${a.failedCount} failures since stats reset)`, fix: "Look at the server log for the archive_command's error; check the WAL agent and storage. Until it archives, pg_wal grows: /recover disk shows how fast." });
  } else if (behind !== null && behind > 2) {
    checks.push({ name: 'archiver', status: 'warn', detail: `${behind} segments behind the current WAL (${production.currentWal}, last archived ${a.lastArchivedWal})`, fix: 'Archiving is slower than WAL is written: check the WAL agent and storage throughput.' });
  } else {
    checks.push({ name: 'archiver', status: 'pass', detail: a.lastArchivedWal ? `last archived ${a.lastArchivedWal} at ${a.lastArchivedTime}${behind !== null ? `, ${behind} segment(s) behind` : ''}` : 'nothing archived yet' });
  }

  const r = production.role;
  const missing: string[] = [];
  if (!r.superuser && !r.backupFunctions) missing.push('EXECUTE on pg_backup_start/pg_backup_stop (base backups)');
  if (!r.superuser && !r.readAllSettings) missing.push('pg_read_all_settings (where the configuration lives; archive_command)');
  if (!r.superuser && !r.replication) missing.push('REPLICATION (streamed base backups from another host)');
  if (!r.superuser && !r.createDb) missing.push('CREATEDB (/recover database)');
  if (!r.superuser && !r.signalBackend) missing.push('pg_signal_backend (/recover database --swap ends sessions)');
  checks.push(missing.length === 0
    ? { name: 'roles', status: 'pass', detail: `${r.name}${r.superuser ? ' is a superuser' : ' has what the commands need'}` }
    : { name: 'roles', status: missing[0]!.startsWith('EXECUTE') ? 'fail' : 'warn', detail: `${r.name} lacks ${missing.join('; ')}`, fix: 'Grant them (the SQL is in the README, Deploying), or run those commands with another role.' });
  return checks;
}

function storageChecks(facts: PreflightFacts): Check[] {
  if (facts.storage) return [{ name: 'storage', status: 'fail', detail: `unreachable: ${facts.storage.error}`, fix: 'Check the storage account, network and credentials (RECOVER_AZURE_*): no restore is possible without it.' }];
  const checks: Check[] = [];
  const newest = facts.backups.newest;
  if (!newest) {
    checks.push({ name: 'base backups', status: 'fail', detail: 'none in storage', fix: 'Take one now: recover backup (and set RECOVER_BACKUP_SCHEDULE).' });
  } else if (newest.problems.length > 0) {
    checks.push({ name: 'base backups', status: 'fail', detail: `the newest, ${newest.id}, is incomplete: ${newest.problems.slice(0, 5).join('; ')}${newest.problems.length > 5 ? ` (+${newest.problems.length - 5} more)` : ''}`, fix: 'Take a new backup (recover backup); restores use an older complete one meanwhile (--backup).' });
  } else {
    const unreadable = facts.backups.unreadable.length > 0 ? `; ${facts.backups.unreadable.length} unreadable: ${facts.backups.unreadable.slice(0, 3).join(', ')}` : '';
    checks.push({ name: 'base backups', status: unreadable ? 'warn' : 'pass', detail: `${facts.backups.count}; newest ${newest.id} (${newest.stopTime}, ${gigabytes(newest.databaseBytes)}), every part present with its size${unreadable}`, ...(unreadable ? { fix: 'Look at the unreadable ones with recover backups; recover expire removes interrupted uploads once old.' } : {}) });
  }
  if (newest) {
    checks.push(facts.walGapAt
      ? { name: 'WAL continuity', status: 'fail', detail: `gap at ${facts.walGapAt} after the newest backup: nothing after it can be restored`, fix: 'Take a new base backup now (recover backup); find why the segment is missing (archiver, retention, storage).' }
      : { name: 'WAL continuity', status: 'pass', detail: `no gap from ${newest.id} to ${facts.walReachesTo ?? 'its end'}` });
  }
  const exposure = facts.rpoExposureSeconds;
  if (exposure === null) checks.push({ name: 'RPO exposure', status: 'fail', detail: 'no WAL archived', fix: 'Set up archiving (recover wal-agent).' });
  else if (exposure > facts.rpoObjectiveSeconds) checks.push({ name: 'RPO exposure', status: 'fail', detail: `newest archived WAL is ${minutes(exposure)} old, above the ${minutes(facts.rpoObjectiveSeconds)} objective`, fix: 'A disaster now loses more than the RPO: check the archiver (above); on an idle database set archive_timeout so a segment is archived at least every few minutes.' });
  else checks.push({ name: 'RPO exposure', status: 'pass', detail: `${minutes(exposure)} (objective ${minutes(facts.rpoObjectiveSeconds)})` });
  return checks;
}

function spaceChecks(facts: PreflightFacts): Check[] {
  const newest = facts.backups.newest;
  if (!newest) return [];
  const needed = restoreBytesNeeded(newest.databaseBytes, facts.walBytesSinceBackup);
  const checks: Check[] = [];
  if (facts.restoreRoot) {
    const { path, freeBytes } = facts.restoreRoot;
    checks.push(freeBytes >= needed
      ? { name: 'space for a side restore', status: 'pass', detail: `${gigabytes(freeBytes)} free in ${path}; the newest backup and its WAL need about ${gigabytes(needed)}` }
      : { name: 'space for a side restore', status: 'fail', detail: `${gigabytes(freeBytes)} free in ${path}; the newest backup and its WAL need about ${gigabytes(needed)}`, fix: 'Free or grow that filesystem, or point RECOVER_RESTORE_ROOT at a larger one; remove old side instances (recover instances).' });
  }
  if (facts.dataDir) {
    // In place keeps production's old directory beside the new one until the restore is verified.
    const { path, freeBytes } = facts.dataDir;
    checks.push(freeBytes >= needed
      ? { name: 'space for an in-place restore', status: 'pass', detail: `${gigabytes(freeBytes)} free beside ${path}; the old directory is kept while the restore needs about ${gigabytes(needed)}` }
      : { name: 'space for an in-place restore', status: 'warn', detail: `${gigabytes(freeBytes)} free beside ${path}; an in-place restore keeps the old directory and needs about ${gigabytes(needed)} more`, fix: 'Restore to a side instance instead, or grow the filesystem first.' });
  }
  return checks;
}

export function preflightChecks(facts: PreflightFacts): Check[] {
  return [...productionChecks(facts), ...storageChecks(facts), ...spaceChecks(facts)];
}

export const worstStatus = (checks: readonly Check[]): Exclude<CheckStatus, 'skip'> =>
  checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
