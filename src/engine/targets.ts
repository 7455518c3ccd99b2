/** Parsing the operator's recovery target (pure): exactly one kind, times with an explicit zone. */
import { RecoverError } from '../errors.js';
import { parseLsn } from '../wal/segments.js';
import type { RecoveryTarget } from '../types.js';

export interface TargetOptions {
  at?: string;
  xid?: string;
  lsn?: string;
  name?: string;
  immediate?: boolean;
  latest?: boolean;
}

const EXAMPLE = 'e.g. 2025-01-15T14:29:59+00:00 or 2025-01-15T14:29:59Z';
// Date, a T or space, a time with optional fraction, then a zone that is Z or ±HH[:MM].
const ZONED_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const BARE_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

export function parseTargetTime(raw: string): Date {
  const text = raw.trim();
  const match = ZONED_TIME.exec(text);
  if (!match) {
    if (BARE_TIME.test(text)) {
      throw new RecoverError('TARGET_NO_ZONE', `The time "${raw}" has no time zone, so it is ambiguous.`, {
        hint: `Give an explicit UTC offset, ${EXAMPLE}.`,
      });
    }
    throw new RecoverError('BAD_INPUT', `"${raw}" is not a time.`, { hint: `Write an ISO 8601 time with an offset, ${EXAMPLE}.` });
  }
  let zone = match[3]!.toUpperCase();
  if (zone !== 'Z') zone = zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const time = match[2]!.length === 5 ? `${match[2]}:00` : match[2]!;
  const date = new Date(`${match[1]}T${time}${zone}`);
  // Date rolls 2025-02-30 over into March; a day that does not exist is a typo, not a target.
  const calendarDay = new Date(`${match[1]}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || Number.isNaN(calendarDay.getTime()) || calendarDay.toISOString().slice(0, 10) !== match[1]) {
    throw new RecoverError('BAD_INPUT', `"${raw}" is not a valid calendar time.`, { hint: `Check the date and time, ${EXAMPLE}.` });
  }
  return date;
}

export function parseTarget(options: TargetOptions): RecoveryTarget {
  const given = (['at', 'xid', 'lsn', 'name', 'immediate', 'latest'] as const).filter((key) => {
    const value = options[key];
    return value !== undefined && value !== false;
  });
  if (given.length > 1) {
    throw new RecoverError('TARGET_CONFLICT', `Give exactly one recovery target; got ${given.map((g) => `--${g}`).join(' and ')}.`, {
      hint: 'Choose one of --at, --xid, --lsn, --name, --immediate or --latest.',
    });
  }
  if (given.length === 0) {
    throw new RecoverError('BAD_INPUT', 'No recovery target given.', {
      hint: `Use --at <time with offset> (${EXAMPLE}), --xid, --lsn, --name, --immediate or --latest.`,
    });
  }
  if (options.at !== undefined) return { kind: 'time', time: parseTargetTime(options.at), raw: options.at };
  if (options.xid !== undefined) {
    if (!/^\d{1,20}$/.test(options.xid)) throw new RecoverError('BAD_INPUT', `"${options.xid}" is not a transaction ID.`, { hint: 'Give the numeric xid, e.g. --xid 73519.' });
    return { kind: 'xid', xid: options.xid };
  }
  if (options.lsn !== undefined) {
    try {
      return { kind: 'lsn', lsn: parseLsn(options.lsn) };
    } catch (error) {
      throw new RecoverError('BAD_INPUT', `"${options.lsn}" is not an LSN.`, { hint: 'Write it as PostgreSQL prints it, e.g. --lsn 0/3000028.', cause: error });
    }
  }
  if (options.name !== undefined) {
    if (!/^[\w.:@-]{1,63}$/.test(options.name)) {
      throw new RecoverError('BAD_INPUT', `"${options.name}" is not a restore point name this tool accepts.`, {
        hint: 'Restore point names here are 1-63 letters, digits or . : @ - _ (as created by pg_create_restore_point).',
      });
    }
    return { kind: 'name', name: options.name };
  }
  if (options.immediate) return { kind: 'immediate' };
  return { kind: 'latest' };
}
