/**
 * RECOVER_BACKUP_SCHEDULE: a documented subset of cron, evaluated in UTC (pure). Five fields,
 * minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7, 0 and 7 are
 * Sunday); each a comma list of `*`, `N`, `N-M`, each optionally followed by `/STEP` (a star
 * with /15 is every 15; `0-30/10`; `5/20` is 5 to the field's end every 20). `@hourly`, `@daily` and `@weekly` are shorthands. As in
 * Vixie cron, when both day-of-month and day-of-week are restricted a day matching either
 * counts. No month or day names, no seconds, no time zones: a library for that would bring
 * more code (and a date library) than the schedule of one backup needs.
 */

export interface CronSchedule {
  /** The expression as given. */
  readonly text: string;
  /** True when the minute holding `time` (UTC) is a slot. */
  matches(time: Date): boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const MACROS: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0' };

export const CRON_EXAMPLE = '"0 2 * * *" (every day at 02:00 UTC) or "30 */6 * * *"';

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> | string {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(item);
    if (!match) return `${field.name} "${item}" is not *, N, N-M or one of them with /STEP`;
    const [, from, to, step] = match;
    const low = from === '*' ? field.min : Number(from);
    const high = to !== undefined ? Number(to) : from === '*' || step !== undefined ? field.max : low;
    const every = step === undefined ? 1 : Number(step);
    if (from === '*' && to !== undefined) return `${field.name} "${item}": * takes no range`;
    if (low < field.min || high > field.max || low > high) return `${field.name} "${item}" is outside ${field.min}-${field.max}`;
    if (every < 1) return `${field.name} "${item}": the step must be at least 1`;
    for (let value = low; value <= high; value += every) values.add(value);
  }
  return values;
}

/** The schedule, or why the text is not one (for the configuration error). */
export function parseCron(input: string): CronSchedule | string {
  const text = input.trim();
  const fields = (MACROS[text] ?? text).split(/\s+/);
  if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week) or @hourly/@daily/@weekly, e.g. ${CRON_EXAMPLE}`;
  const sets: Set<number>[] = [];
  for (const [index, field] of FIELDS.entries()) {
    const parsed = parseField(fields[index]!, field);
    if (typeof parsed === 'string') return `${parsed}; e.g. ${CRON_EXAMPLE}`;
    sets.push(parsed);
  }
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.has(7)) weekdays.add(0);
  const dayRestricted = fields[2] !== '*';
  const weekdayRestricted = fields[4] !== '*';
  return {
    text,
    matches(time) {
      if (!minutes.has(time.getUTCMinutes()) || !hours.has(time.getUTCHours()) || !months.has(time.getUTCMonth() + 1)) return false;
      const day = days.has(time.getUTCDate());
      const weekday = weekdays.has(time.getUTCDay());
      if (dayRestricted && weekdayRestricted) return day || weekday;
      return day && weekday;
    },
  };
}

const MINUTE = 60_000;

/** The newest slot in (after, upTo], or null: the minutes are looked at from upTo backwards. */
export function latestSlot(schedule: CronSchedule, after: Date, upTo: Date): Date | null {
  for (let minute = Math.floor(upTo.getTime() / MINUTE) * MINUTE; minute > after.getTime(); minute -= MINUTE) {
    const time = new Date(minute);
    if (schedule.matches(time)) return time;
  }
  return null;
}

/** The first slot after `after`, within a year (a schedule such as "0 0 31 2 *" never comes). */
export function nextSlot(schedule: CronSchedule, after: Date): Date | null {
  const limit = after.getTime() + 366 * 24 * 60 * MINUTE;
  for (let minute = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE; minute <= limit; minute += MINUTE) {
    const time = new Date(minute);
    if (schedule.matches(time)) return time;
  }
  return null;
}
