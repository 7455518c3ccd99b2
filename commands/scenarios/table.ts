/**
 * The runbook's scenario table (§0), as data: what was lost, what to run, how risky, and how
 * its time to recover is made up; and the pure matcher that picks the likely scenario from a
 * few words ("dropped table", "disk full"). Expected times come from this pool's measured
 * rates (index.ts), never from the runbook's guesses.
 */
import { z } from 'zod';
import { RecoverError } from '../../src/errors.js';
import type { Risk } from '../../src/types.js';

export type ScenarioKey = 'row' | 'table' | 'database' | 'corruption' | 'disk' | 'regional' | 'ransomware';

export interface Scenario {
  key: ScenarioKey;
  title: string;
  lost: string;
  /** What to run, written the Slack way (`/recover …`; the CLI prints it as `recover …`). */
  command: string;
  method: string;
  risk: Risk | 'critical';
  /** How its RTO is made up: a full restore of the newest backup and its WAL, plus what follows; or no restore at all. */
  rto: 'restore' | 'restore+copy' | 'none' | 'not-built';
  /** Words that point at it (lower case; a word or a phrase). */
  words: readonly string[];
}

export const SCENARIOS: readonly Scenario[] = [
  { key: 'row', title: 'rows deleted or changed by mistake', lost: 'some rows', command: '/recover rows <table> --where "<filter>" --at <time before the mistake>', method: 'PITR to a side copy, copy the rows back (locate finds the time: /recover locate <table>)', risk: 'side-copy', rto: 'restore+copy', words: ['row', 'rows', 'delete from', 'update', 'updated', 'overwrote', 'overwritten', 'record', 'records'] },
  { key: 'table', title: 'a table dropped or truncated', lost: 'one table', command: '/recover table <table> --at <time before the mistake>', method: 'PITR to a side copy, copy the table back (as new, or replacing)', risk: 'destructive', rto: 'restore+copy', words: ['table', 'drop table', 'dropped table', 'truncate', 'truncated'] },
  { key: 'database', title: 'a database dropped by mistake', lost: 'one database', command: '/recover database <db> --at <time before the mistake>', method: 'PITR to a side copy, copy the database to production under a new name, verify, swap', risk: 'destructive', rto: 'restore+copy', words: ['database', 'drop database', 'dropped database', 'schema', 'db'] },
  { key: 'corruption', title: 'production crashed or its files are damaged', lost: 'part or all', command: '/recover crash', method: 'triage, then crash recovery, or a restore that replays every WAL segment including the unarchived local tail', risk: 'destructive', rto: 'restore', words: ['corrupt', 'corrupted', 'corruption', 'crash', 'crashed', 'damaged', 'checksum', 'panic', 'start', "won't start", 'invalid page', 'down'] },
  { key: 'disk', title: 'the disk is full', lost: 'nothing yet (writes stop)', command: '/recover disk', method: 'archive the WAL backlog, remove only archived segments older than REDO, start and check', risk: 'destructive', rto: 'none', words: ['disk', 'full', 'space', 'no space', 'pg_wal', 'enospc'] },
  { key: 'regional', title: 'the whole region is lost', lost: 'whole Azure region', command: 'docs/RUNBOOK.md §5 (promote the DR replica by hand)', method: 'DR replica promotion or geo-restore', risk: 'critical', rto: 'not-built', words: ['region', 'regional', 'datacenter', 'azure down', 'outage', 'failover', 'dr'] },
  { key: 'ransomware', title: 'data encrypted or destroyed by an attacker', lost: 'everything after the attack', command: '/recover pitr <time before the attack>', method: 'PITR from the newest backup taken before the attack, to a side instance first; check it before anything replaces production', risk: 'side-copy', rto: 'restore', words: ['ransomware', 'encrypted', 'attack', 'attacker', 'hacked', 'compromised', 'malware'] },
];

/** The scenario these words most likely describe (most matching words; phrases count double), or null. Pure. */
export function matchScenario(text: string): Scenario | null {
  const said = ` ${text.toLowerCase().replace(/[^\p{L}\p{N}_' ]+/gu, ' ').replace(/\s+/g, ' ').trim()} `;
  let best: { scenario: Scenario; score: number } | null = null;
  for (const scenario of SCENARIOS) {
    const score = scenario.words.reduce((sum, word) => sum + (said.includes(` ${word} `) ? (word.includes(' ') ? 2 : 1) : 0), 0);
    if (score > 0 && (!best || score > best.score)) best = { scenario, score };
  }
  return best?.scenario ?? null;
}

/** The first line of help for these words: the likely scenario and what to run (Slack form; the CLI prints it its way). Pure. */
export function likelyLine(about: string, scenario: Scenario): string {
  const said = about.length > 80 ? `${about.slice(0, 79)}…` : about;
  return `For "${said}", likely: ${scenario.title} → ${scenario.command} (${scenario.method}; risk ${scenario.risk}). /recover scenarios ${said} shows the expected time to recover.`;
}

/** `help` and `scenarios` take a few words about what happened (no options): `{ about }`, or `{}` without words. */
export const aboutSchema = z.object({ about: z.string().max(200).optional() }).strict();
export type AboutArgs = z.infer<typeof aboutSchema>;

export function parseAbout(tokens: string[], name: 'help' | 'scenarios'): AboutArgs {
  const hint = `Example: /recover ${name} dropped table`;
  const options = tokens.filter((token) => token.startsWith('--'));
  if (options.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${options.join(', ')}: ${name} takes only a few words about what happened.`, { hint });
  const about = tokens.join(' ').trim();
  const parsed = aboutSchema.safeParse(about ? { about } : {});
  if (!parsed.success) throw new RecoverError('BAD_INPUT', 'Describe what happened in a few words (at most 200 characters).', { hint });
  return parsed.data;
}
