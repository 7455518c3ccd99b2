/**
 * Reading how replay ended from the restored server's log (pure): PostgreSQL's reason, the
 * record it could not read, and how far redo got.
 */
import { parseLsn } from '../catalog/segments.js';

/** The server log's own words about why recovery ended or the server stopped. */
export function recoveryEndReason(logLines: string[]): string | undefined {
  const meaningful = logLines.filter((line) =>
    /FATAL|PANIC|invalid (magic number|record length|resource manager|record offset|contrecord|page header)|incorrect (resource manager data )?checksum|unexpected pageaddr|record with incorrect prev-link|terminated by signal|was terminated|out of sequence|could not (read|open)|missing contrecord/i.test(line),
  );
  // A rejected setting is logged on the lines before "configuration file … contains errors".
  const settingErrors = logLines.filter((line) => /invalid value for parameter|syntax error in file|unrecognized configuration parameter/.test(line));
  const picked = [...settingErrors.slice(-2), ...meaningful.slice(-1)];
  if (picked.length === 0) return undefined;
  return picked.map((line) => line.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR|WARNING):\s*/, '').trim()).join(' / ');
}

/** PostgreSQL's words when replay meets a record it cannot read (xlogreader.c, PostgreSQL 15 and later). */
const INVALID_RECORD =
  /invalid (?:record offset|record length|resource manager ID|contrecord length|magic number|info bits)|record length \d+ at \S+ too long|incorrect resource manager data checksum|record with incorrect prev-link|unexpected pageaddr|out-of-sequence timeline ID|contrecord is requested|there is no contrecord flag|missing contrecord|WAL file is from different database system/;

/** Where replay met an unreadable record, from the server log: PostgreSQL's words and the segment or LSN they name. */
export interface InvalidRecord {
  reason: string;
  segment: string | null;
  lsn: bigint | null;
}

export function invalidRecordInLog(logLines: string[]): InvalidRecord | undefined {
  const line = [...logLines].reverse().find((l) => INVALID_RECORD.test(l));
  if (!line) return undefined;
  const reason = line.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR|WARNING):\s*/, '').trim();
  const segment = /\b(?:log|WAL) segment ([0-9A-F]{24})\b/.exec(reason)?.[1] ?? null;
  // "record with incorrect prev-link A at B": the record is at the last LSN named.
  const lsns = [...reason.matchAll(/\bat ([0-9A-F]{1,8}\/[0-9A-F]{1,8})\b/g)];
  const lsn = lsns.length > 0 ? parseLsn(lsns.at(-1)![1]!) : null;
  return { reason, segment, lsn };
}

/** How far replay got, from the server log: "redo done at X" and "last completed transaction was at log time T". */
export function replayEndInLog(logLines: string[]): { redoDoneAt: string | null; lastTransaction: string | null } {
  const redo = [...logLines].reverse().map((l) => /redo done at ([0-9A-F]{1,8}\/[0-9A-F]{1,8})/.exec(l)).find(Boolean);
  const xact = [...logLines].reverse().map((l) => /last completed transaction was at log time (.+?)\s*$/.exec(l)).find(Boolean);
  return { redoDoneAt: redo?.[1] ?? null, lastTransaction: xact?.[1] ?? null };
}
