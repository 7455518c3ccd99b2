/**
 * Every registry command's words, through the parsers Slack and the CLI use (tokenize → parse,
 * argv → cliWords → parseCli, and the words handed straight to parse/parseCli), with random and
 * adversarial input: identifiers (system catalogs, quoted, dotted, NUL, unicode, very long),
 * filters (statements, comments, sub-selects, functions), times (zones or none, too many
 * digits), instance names (`..`, hidden, slashes, link-like) and database names (templates).
 * Whatever comes in: no crash, a coded refusal (exit 2 or 3), or args that the command's schema
 * accepts, also after the JSON round trip through the control DB, and whose names stay what a
 * plan may use: an instance is one plain path component under the restore root, databases and
 * tables are identifiers, times and xids are what PostgreSQL reads. Which catalogs and
 * templates a plan may touch is decided at planning, from production's catalog (tested there).
 */
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';
import { INSTANCE_NAME } from '../../../commands/pitr-args.js';
import type { RecoverCommand } from '../../../commands/types.js';
import { cliWords, normalizeTyped, tokenize, withCommonCliFlags } from '../../../commands/words.js';
import { parseTargetTime } from '../../../src/catalog/targets.js';
import { parseFilter } from '../../../src/engine/rows/filter.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
// Fixed unless asked otherwise: the 'shaped words reach valid args' checks must not depend on luck (PROPERTY_SEED=random explores).
const SEED = process.env.PROPERTY_SEED === 'random' ? Date.now() : Number(process.env.PROPERTY_SEED ?? 20261206);
const ROOT = '/var/lib/recover/instances';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const TABLE = /^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const UINT64_MAX = 2n ** 64n - 1n;

// ---- the words ---------------------------------------------------------------------------

const identifiers = fc.constantFrom(
  'workflows', 'public.workflows', 'app.workflow_executions', 'pg_catalog.pg_class', 'pg_class', 'information_schema.tables', 'pg_toast.pg_toast_2619',
  '"quoted"', '"Mixed Case"', 'a.b.c', 'a..b', '.x', 'x.', '../x', '/abs', 'x/../y', 'a\u0000b', 'wörk', 'таблица', '表', 'x'.repeat(64), 'x'.repeat(300),
  '$x', '_', '1abc', 'a-b', 'a;drop table x', '<@U0BOB>', '<!channel>', '*bold*', '`tick`', '',
);
const filters = fc.constantFrom(
  'user_id = 12345', "status = 'done'", "status in ('a', 'b') and user_id >= 3", 'created_at between \'2025-01-01\' and \'2025-02-01\'', 'deleted_at is null',
  'a = 1; drop table workflows', 'a = 1 -- comment', 'a = 1 /* c */', 'a in (select id from users)', 'lower(name) = 1', "a = ''''", "a = '", '"col" = 1', '"" = 1',
  'a = 1 or 1 = 1', 'a = 1e5', 'a = 0x10', 'a = 1.', 'a = -.5', '(a = 1)', 'and', '= 1', 'a = <@U0BOB>', "a = '<!channel>'", '“a” = 1', 'a = ‘done’', 'x'.repeat(5000),
);
const times = fc.oneof(
  fc.constantFrom(
    '2025-01-15T14:29:59+00:00', '2025-01-15T14:29:59Z', '2025-01-15T14:29:59.123456Z', '2025-01-15T14:29:59.1234567Z', '2025-01-15 14:29:59', '2025-01-15T14:29:59',
    '2025-02-30T00:00:00Z', '2025-01-15T25:00:00Z', '2025-01-15T14:29:59+0530', '2025-01-15T14:29:59-08', '2025-01-15T14:29:59+99:99', '1969-12-31T23:59:59Z', 'now', 'yesterday', '0',
  ),
  fc
    .record({
      y: fc.integer({ min: 1960, max: 2100 }), mo: fc.integer({ min: 0, max: 13 }), d: fc.integer({ min: 0, max: 32 }), h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 61 }), s: fc.integer({ min: 0, max: 61 }), frac: fc.stringMatching(/^\d{0,9}$/),
      zone: fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+05:30', '-08', '+0530', '', ' UTC', '+14:00', '+24:00'), sep: fc.constantFrom('T', ' ', 't'),
    })
    .map(({ y, mo, d, h, mi, s, frac, zone, sep }) => {
      const p = (n: number) => String(n).padStart(2, '0');
      return `${y}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}:${p(s)}${frac ? `.${frac}` : ''}${zone}`;
    }),
);
const instances = fc.constantFrom(
  'side-1', 'pitr-20250115142959-ab12cd34', 'a', '9', '..', '.', '.hidden', 'a/b', '../../etc', '/etc/passwd', 'x/../y', 'a\\b', '~root', 'link->prod', 'a b', 'a\u0000', 'x'.repeat(63), 'x'.repeat(64), 'ä', '-x', '_x',
);
const databases = fc.constantFrom('aiagent_prod', 'postgres', 'template0', 'template1', 'Template1', 'pg_catalog', 'a-b', '$x', '_', 'a,b', 'a,', ',', 'x'.repeat(40), 'x'.repeat(64), '"db"', 'db;drop');
const numbers = fc.constantFrom('0', '1', '2', '3', '73519', '4294967296', '18446744073709551615', '18446744073709551616', '99999999999999999999', '-1', '1e5', '0x10', '00', '16', '17', '1024', '65535', '65536', '0/3000028', 'FFFFFFFF/FFFFFFFF', '1/', 'X/Y');
const flags = fc.constantFrom(
  '--where', '--at', '--before-xid', '--db', '--instance', '--from-instance', '--with-children', '--keep-instance', '--mode', '--swap', '--jobs', '--to', '--xid',
  '--lsn', '--name', '--action', '--backup', '--immediate', '--latest', '--inclusive', '--exclusive', '--port', '--json', '--dry-run', '--confirm', '--since', '--', '--=', '--help',
  '--__proto__', '--constructor', '--toString', '--hasOwnProperty', '--WHERE', '—where', '–-at',
);
const keywords = fc.constantFrom('as-new', 'missing-rows', 'replace', 'side', 'in-place', 'promote', 'pause', 'restore-point', 'help', 'status');
const anyText = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 10 }));

const value = fc.oneof(identifiers, filters, times, instances, databases, numbers, keywords, anyText);
/** `--flag value` or `--flag=value`, so most words reach the option they are meant for. */
const option = fc.tuple(flags, value, fc.boolean()).map(([flag, v, inline]) => (inline ? [`${flag}=${v}`] : [flag, v]));
const word = fc.oneof({ weight: 3, arbitrary: option }, { weight: 2, arbitrary: value.map((v) => [v]) }, { weight: 1, arbitrary: flags.map((f) => [f]) });
const words = fc.array(word, { maxLength: 8 }).map((groups) => groups.flat());

/** Values of the right shape, so the shaped words below reach valid args often enough to check them. */
const goodTable = fc.oneof(fc.constantFrom('workflows', 'public.workflows', 'app.workflow_executions'), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_$]{0,8}(\.[A-Za-z_][A-Za-z0-9_$]{0,8})?$/));
const goodTime = fc.constantFrom('2025-01-15T14:29:59+00:00', '2025-01-15T14:29:59.123456Z', '2025-01-15 14:29:59-08:00', '2025-01-15T14:29+0530');
const goodInstance = fc.stringMatching(INSTANCE_NAME);
const goodDb = fc.oneof(fc.constantFrom('aiagent_prod', 'postgres', 'template1'), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_$]{0,12}$/));
const goodXid = fc.bigInt({ min: 0n, max: 2n ** 66n }).map(String);
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad });
const T = mostly(goodTable, identifiers);
const AT = mostly(goodTime, times);
const INST = mostly(goodInstance, instances);
const DB = mostly(goodDb, databases);
const XID = mostly(goodXid, numbers);
const FILTER = mostly(fc.constantFrom('user_id = 12345', "status = 'done'", "a in ('x', 'y') and b is not null", 'a between 1 and 2'), filters);

/** Words likely to parse: each command's usual shape, some values adversarial. */
const shaped: Record<string, fc.Arbitrary<string[]>> = {
  pitr: fc.tuple(AT, fc.option(DB), fc.option(INST), fc.constantFrom('side', 'in-place'), fc.option(fc.constantFrom('--inclusive', '--exclusive'))).map(([t, db, inst, to, incl]) => [
    ...(t.includes(' ') ? t.split(' ') : [t]), ...(db ? ['--db', db] : []), ...(inst ? ['--instance', inst] : []), '--to', to, ...(incl ? [incl] : []),
  ]),
  rows: fc.tuple(T, FILTER, fc.oneof(AT.map((t) => ['--at', t]), XID.map((n) => ['--before-xid', n]), INST.map((i) => ['--from-instance', i])), fc.option(DB), fc.option(INST), fc.boolean()).map(
    ([table, where, target, db, inst, children]) => [table, '--where', where, ...target, ...(db ? ['--db', db] : []), ...(inst ? ['--instance', inst] : []), ...(children ? ['--with-children'] : [])],
  ),
  table: fc.tuple(T, fc.oneof(AT.map((t) => ['--at', t]), XID.map((n) => ['--before-xid', n]), INST.map((i) => ['--from-instance', i])), fc.option(fc.oneof(T.map((n) => ['--mode', 'as-new', n]), keywords.map((k) => ['--mode', k]))), fc.option(DB)).map(
    ([table, target, mode, db]) => [table, ...target, ...(mode ?? []), ...(db ? ['--db', db] : [])],
  ),
  database: fc.tuple(DB, fc.oneof(AT.map((t) => ['--at', t]), XID.map((n) => ['--before-xid', n]), fc.tuple(DB, fc.stringMatching(/^\d{12,16}$/)).map(([d, s]) => ['--swap', `${d}_restored_${s}`])), fc.option(mostly(fc.integer({ min: 0, max: 20 }).map(String), numbers)), fc.option(INST)).map(
    ([db, target, jobs, inst]) => [db, ...target, ...(jobs ? ['--jobs', jobs] : []), ...(inst ? ['--instance', inst] : [])],
  ),
  locate: fc.tuple(T, fc.option(AT), fc.option(DB)).map(([table, since, db]) => [table, ...(since ? ['--since', since] : []), ...(db ? ['--db', db] : [])]),
  verify: fc.tuple(fc.array(DB, { maxLength: 3 }), fc.option(INST)).map(([dbs, inst]) => [...dbs, ...(inst ? ['--instance', inst] : [])]),
  cancel: fc.oneof(fc.uuid().map((id) => [id]), anyText.map((t) => [t])),
};
const wordsFor = (name: string): fc.Arbitrary<string[]> => (shaped[name] ? fc.oneof(words, shaped[name]!) : words);

/** Slack text: the words quoted in any way people type (ASCII, curly, guillemets) and spaced with any space. */
const quoting = fc.constantFrom(['', ''], ['"', '"'], ["'", "'"], ['“', '”'], ['‘', '’'], ['„', '“'], ['« ', ' »'], ['«\u00a0', '\u00a0»'], ['″', '″']);
const slackText = (name: string) =>
  fc.tuple(wordsFor(name), fc.array(quoting, { maxLength: 12 }), fc.constantFrom(' ', '  ', '\u00a0', '\t', '\n')).map(([ws, quotes, space]) =>
    // A word with spaces in it (a filter) is typed quoted, as a person would; random quotes elsewhere.
    [name, ...ws.map((w, i) => {
      const [open, close] = quotes[i]?.[0] || !/\s/.test(w) ? [quotes[i]?.[0] ?? '', quotes[i]?.[1] ?? ''] : ['"', '"'];
      return `${open}${w}${close}`;
    })].join(space),
  );

// ---- what must hold ----------------------------------------------------------------------

/** A side instance name: one plain component directly under the root, never the root or outside it. */
function assertInstance(name: unknown): void {
  expect(name).toMatch(INSTANCE_NAME);
  const path = join(ROOT, name as string);
  expect(relative(ROOT, path)).toBe(name);
}

/**
 * recovery_target_xid as PostgreSQL reads it: an unsigned 64-bit number (larger ones stop the
 * server at startup) cut to its low 32 bits, which must be a normal xid (3 or more).
 */
function assertXid(text: string): void {
  expect(text).toMatch(/^\d+$/);
  expect(BigInt(text)).toBeLessThanOrEqual(UINT64_MAX);
  expect(BigInt(text) % 2n ** 32n).toBeGreaterThanOrEqual(3n);
}

const each = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The parse-level facts of valid args, whatever the command: names, filters, times, xids. */
function assertNames(args: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(args)) {
    if (value === null || value === undefined) continue;
    if (key === 'instance' || key === 'fromInstance') assertInstance(value);
    else if (key === 'db' || key === 'swap') each(value).forEach((db) => expect(db).toMatch(IDENTIFIER));
    else if (key === 'table') expect(value).toMatch(TABLE);
    else if (key === 'where') expect(() => parseFilter(value as string)).not.toThrow();
    else if (key === 'at' || key === 'since') expect(() => parseTargetTime(value as string)).not.toThrow();
    else if (key === 'beforeXid') assertXid(value as string);
    else if (key === 'jobs') expect(value).toBeGreaterThanOrEqual(1);
    else if (key === 'mode' && (value as { kind: string }).kind === 'as-new') expect((value as { name: string }).name).toMatch(IDENTIFIER);
    else if (key === 'target') {
      const target = value as { kind: string; time?: string; xid?: string };
      if (target.kind === 'time') expect(() => parseTargetTime(target.time!)).not.toThrow();
      if (target.kind === 'xid') assertXid(target.xid!);
    }
  }
}

interface Tally {
  valid: number;
  refused: number;
}

/** Runs one parse: a coded refusal (exit 2 or 3), or valid args that survive the control DB's JSON round trip. */
function check(command: RecoverCommand, run: () => unknown, tally: Tally): void {
  let args: unknown;
  try {
    args = run();
  } catch (error) {
    if (!(error instanceof RecoverError)) throw new Error(`${command.name}: not a RecoverError: ${String(error)}`, { cause: error });
    expect([2, 3], `${command.name}: ${error.code} ${error.message}`).toContain(exitCodeFor(error.code));
    tally.refused++;
    return;
  }
  const parsed = command.schema.safeParse(args);
  expect(parsed.success, `${command.name}: ${JSON.stringify(args)} ${parsed.error?.message ?? ''}`).toBe(true);
  const stored = command.schema.safeParse(JSON.parse(JSON.stringify(args)));
  expect(stored.success && stored.data).toEqual(args);
  assertNames(args as Record<string, unknown>);
  tally.valid++;
}

const cliParse = (command: RecoverCommand, tokens: string[]) => (command.parseCli ? command.parseCli(tokens) : withCommonCliFlags((w) => command.parse(w), tokens)).args;

// ---- the properties ----------------------------------------------------------------------

describe.each(COMMANDS.map((command) => [command.name, command] as const))('the words of %s', (name, command) => {
  it('parse and parseCli refuse with exit 2/3 or return valid args, for any words', () => {
    const tally = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(wordsFor(name), (tokens) => {
        check(command, () => command.parse([...tokens]), tally);
        check(command, () => cliParse(command, [...tokens]), tally);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(tally.refused + tally.valid).toBe(2 * RUNS);
    // The shaped words reach valid args (else the checks above would be vacuous); help and status take any words.
    if (shaped[name]) expect(tally.valid).toBeGreaterThan(0);
  });

  it('Slack text (any quotes, any spaces) through tokenize → parse', () => {
    const tally = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(slackText(name), (text) => {
        const tokens = tokenize(text);
        expect(tokens[0]).toBe(name);
        check(command, () => command.parse(tokens.slice(1)), tally);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    if (shaped[name]) expect(tally.valid).toBeGreaterThan(0);
  });

  it('a terminal\'s argv (curly quotes split by the shell) through cliWords → parseCli', () => {
    const tally = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(slackText(name), (text) => {
        // A shell splits at spaces and keeps curly quotes as characters; ASCII-quoted words it would unquote itself.
        const argv = text.split(/[ \t\n]+/).slice(1);
        check(command, () => cliParse(command, cliWords(argv)), tally);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('tokenize and cliWords agree on quoted words', () => {
  // Words without quote characters or spaces of their own, quoted in a random way.
  const plain = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((w) => /^\S+$/u.test(normalizeTyped(w)) && !/["'\u2013\u2014]/.test(normalizeTyped(w)));
  const group = fc.tuple(fc.array(plain, { minLength: 1, maxLength: 4 }), quoting);

  it('a quoted group of words is one word, its quotes dropped, in Slack and in a terminal', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 5 }), (groups) => {
        const text = groups.map(([ws, [open, close]]) => `${open}${ws.join(' ')}${close}`).join(' ');
        const expected = groups.flatMap(([ws, [open]]) => (open === '' ? ws : [ws.join(' ')])).map((w) => normalizeTyped(w).trim());
        expect(tokenize(text).map((w) => w.trim())).toEqual(expected);
        // In a terminal only curly quotes reach argv (the shell removed ASCII ones, keeping the group as one word).
        const argv = groups.flatMap(([ws, [open, close]]) => (open === '"' || open === "'" ? [ws.join(' ')] : `${open}${ws.join(' ')}${close}`.split(' ')));
        expect(cliWords(argv).map((w) => w.trim())).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
