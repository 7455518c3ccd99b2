/**
 * Dump retention (pure): what the scheduled dump (runner/scheduled-dump.ts) deletes after it ran.
 * The policy mirrors the base backups' (RECOVER_RETENTION_FULL / _DAYS), per database:
 * RECOVER_DUMP_RETENTION_COUNT keeps the newest N complete dumps, RECOVER_DUMP_RETENTION_DAYS
 * keeps every dump of the last D days; a dump either rule keeps is kept. A dump is a point in
 * time with no WAL chain behind it, so nothing else is needed to restore a kept one. Always kept:
 * the newest complete dump of each database (whatever the policy), and a dump whose manifest cannot
 * be read (look at it). Without a policy no complete dump expires.
 * A stamp without a manifest is an upload that failed (and whose removal failed too) or one still
 * uploading: deleted once nothing was written to it for INCOMPLETE_IDLE_HOURS, policy or not.
 */
import { INCOMPLETE_IDLE_HOURS } from '../retention/plan.js';
import type { DumpEntry } from './manifest.js';

export interface DumpRetentionPolicy {
  count?: number;
  days?: number;
}

/** A `<db>/<stamp>/` directory with blobs and no manifest.json; `lastWrite`: its newest blob. */
export interface DumpLeftover {
  database: string;
  stamp: string;
  lastWrite: string;
  blobs: number;
}

export interface DumpFate {
  database: string;
  stamp: string;
  keep: boolean;
  /** Every rule that keeps it, or why it goes. */
  reasons: string[];
}

export interface DumpRetentionPlan {
  configured: boolean;
  /** Complete and damaged dumps, per database oldest first. */
  dumps: DumpFate[];
  leftovers: (DumpLeftover & { delete: boolean; reason: string })[];
}

/** `20250115142959` → that UTC second. */
export const stampTime = (stamp: string): Date =>
  new Date(Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(8, 10), +stamp.slice(10, 12), +stamp.slice(12, 14)));

export function describeDumpPolicy(policy: DumpRetentionPolicy): string {
  const rules = [policy.count === undefined ? null : `the newest ${policy.count}`, policy.days === undefined ? null : `${policy.days} days`].filter(Boolean);
  return rules.length ? `keep ${rules.join(' and ')} per database` : 'none (RECOVER_DUMP_RETENTION_COUNT, RECOVER_DUMP_RETENTION_DAYS unset)';
}

export function planDumpRetention(entries: readonly DumpEntry[], leftovers: readonly DumpLeftover[], policy: DumpRetentionPolicy, now: Date): DumpRetentionPlan {
  const configured = policy.count !== undefined || policy.days !== undefined;
  const dumps: DumpFate[] = [];
  for (const database of [...new Set(entries.map((e) => e.database))].sort()) {
    const ours = entries.filter((e) => e.database === database).sort((a, b) => a.stamp.localeCompare(b.stamp));
    const complete = ours.filter((e) => e.manifest !== null).reverse(); // newest first
    for (const entry of ours) {
      const reasons: string[] = [];
      const rank = complete.indexOf(entry);
      if (entry.manifest === null) reasons.push(`kept: its manifest cannot be used (${entry.problem ?? 'unknown'}); look at it`);
      else if (rank === 0) reasons.push('kept: the newest complete dump');
      if (!configured) reasons.push('kept: no dump retention policy');
      if (policy.count !== undefined && rank >= 0 && rank < policy.count) reasons.push(`kept: one of the newest ${policy.count}`);
      if (policy.days !== undefined && now.getTime() - stampTime(entry.stamp).getTime() <= policy.days * 86_400_000) reasons.push(`kept: within ${policy.days} days`);
      const keep = reasons.length > 0;
      dumps.push({ database, stamp: entry.stamp, keep, reasons: keep ? reasons : [`expires: older than ${describeDumpPolicy(policy).replace(/^keep /, '')}`] });
    }
  }
  const idleMs = INCOMPLETE_IDLE_HOURS * 3_600_000;
  return {
    configured,
    dumps,
    leftovers: leftovers.map((l) => (now.getTime() - Date.parse(l.lastWrite) < idleMs
      ? { ...l, delete: false, reason: `kept: written within ${INCOMPLETE_IDLE_HOURS} h (may still be uploading)` }
      : { ...l, delete: true, reason: `failed upload (no manifest), last written ${l.lastWrite}` })),
  };
}
