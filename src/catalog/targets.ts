/** Parsing the operator's recovery target (pure): exactly one kind, times with an explicit zone. */
import { RecoverError } from '../errors.js';
import { parseLsn } from './segments.js';
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

/**
 * A time target exactly as the operator gave it, to the microsecond (PostgreSQL's precision).
 * `text` is what PostgreSQL, the plan and the channel see; `notBefore` is the same instant
 * rounded UP to the millisecond, for choosing backups and WAL with millisecond timestamps:
 * rounding up can only ask for more WAL, never drop a segment the target needs.
 */
export interface ExactTime {
  /** Normalised: `YYYY-MM-DDTHH:MM:SS[.f{1,6}]` and `Z` or the offset as given (`±HH:MM`); the digits as given. */
  text: string;
  /** The same instant in UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (fraction without trailing zeros). */
  utc: string;
  /** Microseconds since the Unix epoch. */
  epochMicros: bigint;
  /** The smallest millisecond instant not before the target. */
  notBefore: Date;
}

function utcText(epochMicros: bigint): string {
  const ms = epochMicros / 1000n; // targets are after 1970: division floors
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = `${iso.slice(20, 23)}${String(epochMicros % 1000n).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

export function parseTargetTime(raw: string): ExactTime {
  const text = raw.trim();
  const match = ZONED_TIME.exec(text);
  if (!match) {
    if (BARE_TIME.test(text)) {
      throw new RecoverError('TARGET_NO_ZONE', `The time "${raw}" has no time zone, so it is ambiguous.`, {
        hint: `Give an explicit UTC offset, ${EXAMPLE}.`,
      });
    }
    throw new RecoverError('BAD_INPUT', `"${raw}" is not a time.`, { hint: `Write an ISO 8601 time with an offset and at most 6 fractional digits, ${EXAMPLE}.` });
  }
  let zone = match[3]!.toUpperCase();
  if (zone !== 'Z') zone = zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  // UTC is written Z, like every other time this tool prints (PostgreSQL reads Z too).
  if (zone === '+00:00' || zone === '-00:00') zone = 'Z';
  const [clock, fraction = ''] = (match[2]!.length === 5 ? `${match[2]}:00` : match[2]!).split('.') as [string, string?];
  const seconds = new Date(`${match[1]}T${clock}${zone}`);
  // Date rolls 2025-02-30 over into March; a day that does not exist is a typo, not a target.
  const calendarDay = new Date(`${match[1]}T00:00:00Z`);
  if (Number.isNaN(seconds.getTime()) || Number.isNaN(calendarDay.getTime()) || calendarDay.toISOString().slice(0, 10) !== match[1]) {
    throw new RecoverError('BAD_INPUT', `"${raw}" is not a valid calendar time.`, { hint: `Check the date and time, ${EXAMPLE}.` });
  }
  const micros = BigInt(fraction.padEnd(6, '0') || '0');
  const epochMicros = BigInt(seconds.getTime()) * 1000n + micros;
  return {
    text: `${match[1]}T${clock}${fraction ? `.${fraction}` : ''}${zone}`,
    utc: utcText(epochMicros),
    epochMicros,
    notBefore: new Date(seconds.getTime() + Math.ceil(Number(micros) / 1000)),
  };
}

/** A time target from text (the operator's, or a stored plan's): exact text plus the rounded-up instant. */
export function timeTarget(raw: string): Extract<RecoveryTarget, { kind: 'time' }> {
  const exact = parseTargetTime(raw);
  return { kind: 'time', time: exact.notBefore, raw: exact.text };
}

/**
 * The exact target time of a time target: its `raw` text normalised. A target built in code
 * with only a Date (raw empty) has millisecond precision, so its ISO form is exact.
 */
export function exactTargetTime(target: Extract<RecoveryTarget, { kind: 'time' }>): ExactTime {
  return parseTargetTime(target.raw.trim() === '' ? target.time.toISOString() : target.raw);
}

/**
 * A transaction ID recovery can stop at. PostgreSQL reads recovery_target_xid as an unsigned
 * 64-bit number (larger ones stop the server at startup) and keeps its low 32 bits (the epoch is
 * dropped), and xids 0-2 (invalid, bootstrap, frozen) are never a transaction's: so 3 to 2^64-1
 * whose low 32 bits are 3 or more. Refused here, a bad xid never costs a restore first.
 */
export function isTargetXid(text: string): boolean {
  if (!/^\d{1,20}$/.test(text)) return false;
  const xid = BigInt(text);
  return xid <= 0xffff_ffff_ffff_ffffn && (xid & 0xffff_ffffn) >= 3n;
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
  if (options.at !== undefined) return timeTarget(options.at);
  if (options.xid !== undefined) {
    if (!isTargetXid(options.xid)) throw new RecoverError('BAD_INPUT', `"${options.xid}" is not a transaction ID.`, { hint: 'Give the numeric xid (3 or more, at most 2^64-1), e.g. --xid 73519.' });
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
