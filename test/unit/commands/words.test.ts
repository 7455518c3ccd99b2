/**
 * The one tokenizer of Slack text and the CLI's words (commands/words.ts): quotes, dashes and
 * spaces as phones and Macs type them read as the ASCII people meant, in every command's words.
 */
import { describe, expect, it } from 'vitest';
import { findCommand } from '../../../commands/index.js';
import { cliWords, normalizeTyped, parseFlags, tokenize } from '../../../commands/words.js';
import { RecoverError } from '../../../src/errors.js';

const AT = '2025-01-15T14:29:59+00:00';

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['--where "user_id = 12345"', ['--where', 'user_id = 12345']],
    ["--where 'user_id = 12345'", ['--where', 'user_id = 12345']],
    // macOS and iOS smart quotes
    ['--where “user_id = 12345”', ['--where', 'user_id = 12345']],
    ['--where ‘user_id = 12345’', ['--where', 'user_id = 12345']],
    // German low-high, reversed, guillemets (French typing puts no-break spaces inside), primes, fullwidth
    ['--where „user_id = 12345“', ['--where', 'user_id = 12345']],
    ['--where ‟user_id = 12345‟', ['--where', 'user_id = 12345']],
    ['--where «\u00a0user_id = 12345\u00a0»', ['--where', ' user_id = 12345 ']],
    ['--where ‹user_id = 12345›', ['--where', 'user_id = 12345']],
    ['--where ″user_id = 12345″', ['--where', 'user_id = 12345']],
    ['--where ＂user_id = 12345＂', ['--where', 'user_id = 12345']],
    // a SQL string inside the filter becomes ASCII too
    ['--where “status = ‘done’”', ['--where', "status = 'done'"]],
    ["--where “name = ‘O’’Brien’”", ['--where', "name = 'O''Brien'"]],
    // mixed: curly opening, ASCII closing
    ['--where “user_id = 12345"', ['--where', 'user_id = 12345']],
    // an apostrophe inside a word stays in it
    ['--db don’t', ['--db', "don't"]],
    // after a flag's =
    ['--where="user_id = 1" --at x', ['--where=user_id = 1', '--at', 'x']],
    ['--where=“user_id = 1”', ['--where=user_id = 1']],
    // iOS and macOS turn -- into an em or en dash
    ['—where x —at y –db z', ['--where', 'x', '--at', 'y', '--db', 'z']],
    ['a — b', ['a', '—', 'b']],
    // no-break and thin spaces between words
    ['rows\u00a0workflows\u202f--db\u2009app', ['rows', 'workflows', '--db', 'app']],
    // an unclosed quote is a character of its word, as before
    ['--where “user_id = 1', ['--where', '"user_id', '=', '1']],
  ])('%j', (text, words) => {
    expect(tokenize(text)).toEqual(words);
  });

  it('normalizes only what keyboards substitute', () => {
    expect(normalizeTyped('plain words, ASCII "quotes" and \'apostrophes\' — à côté, 表')).toBe('plain words, ASCII "quotes" and \'apostrophes\' — à côté, 表');
  });
});

describe('cliWords: a terminal has no curly quotes, so the shell split inside them', () => {
  it.each<[string[], string[]]>([
    [['--where', '“user_id', '=', '12345”'], ['--where', 'user_id = 12345']],
    [['--where', '“status', '=', '‘done’”'], ['--where', "status = 'done'"]],
    [['--where', '“user_id=12345”'], ['--where', 'user_id=12345']],
    [['--where=“user_id', '=', '1”'], ['--where=user_id = 1']],
    [['--where', '«', 'user_id', '=', '1', '»'], ['--where', ' user_id = 1 ']],
    // ASCII quotes left by the shell (it was asked to keep them) are the word's own
    [['--where', '"User Id" = 5'], ['--where', '"User Id" = 5']],
    [['--db', 'don’t'], ['--db', "don't"]],
    [['—where', 'x'], ['--where', 'x']],
    // never closed: the words stay apart, as in Slack
    [['--where', '“user_id', '=', '1'], ['--where', '"user_id', '=', '1']],
    [['“'], ['"']],
  ])('%j', (argv, words) => {
    expect(cliWords(argv)).toEqual(words);
  });
});

describe('parseFlags', () => {
  it.each(['--constructor', '--__proto__', '--toString', '--hasOwnProperty'])('%s is an unknown option, not an inherited key "given more than once"', (flag) => {
    expect(parseFlags([flag, 'x'], [flag.slice(2)]).flags[flag.slice(2)]).toBe('x');
    for (const command of ['pitr', 'rows', 'verify']) {
      const error = (() => {
        try {
          findCommand(command)!.parse([flag, 'x']);
        } catch (e) {
          return e as RecoverError;
        }
        return null;
      })();
      expect(error?.message).toContain(`Unknown option ${flag}`);
    }
  });
});

describe('the issue: /recover rows with smart quotes', () => {
  const rows = findCommand('rows')!;

  it.each([
    `rows workflows --where “user_id = 12345” --at ${AT}`,
    `rows workflows —where “user_id = 12345” —at ${AT}`,
    `rows workflows --where „user_id = 12345“ --at ${AT}`,
  ])('%s is the filter user_id = 12345, not a TARGET_CONFLICT', (text) => {
    expect(rows.parse(tokenize(text).slice(1))).toMatchObject({ table: 'workflows', where: 'user_id = 12345', at: '2025-01-15T14:29:59Z' });
  });

  it('with --before-xid: before, the filter\'s words were read as a time (TARGET_CONFLICT)', () => {
    expect(rows.parse(tokenize('rows workflows --where “status = ‘done’” --before-xid 73519').slice(1))).toMatchObject({ where: "status = 'done'", beforeXid: '73519' });
  });

  it('the same words in a terminal', () => {
    const argv = ['workflows', '--where', '“user_id', '=', '12345”', '--before-xid', '73519'];
    expect(rows.parseCli!(cliWords(argv)).args).toMatchObject({ where: 'user_id = 12345', beforeXid: '73519' });
  });
});
