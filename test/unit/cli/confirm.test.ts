/**
 * Destructive CLI plans (issue 19 item 2): the decision as a table (risk × --confirm × --json ×
 * --dry-run × terminal → proceed, prompt or refuse with exit 2), the prompt's answer, the
 * `--confirm` words of every command in the CLI, and Slack refusing them.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand } from '../../../commands/index.js';
import { takeConfirm, withCommonCliFlags } from '../../../commands/words.js';
import { answerConfirms, askLine, confirmOrRefuse, decideConfirmation, type ConfirmInput } from '../../../src/cli/confirm.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';

const PROD = 'aiagent_prod';
const base: ConfirmInput = { risk: 'destructive', expected: PROD, given: undefined, dryRun: false, json: false, interactive: false };

type Row = [string, Partial<ConfirmInput>, 'proceed' | 'prompt' | RegExp];
const rows: Row[] = [
  ['side-copy, nothing given', { risk: 'side-copy' }, 'proceed'],
  ['read-only, nothing given, no terminal', { risk: 'read-only' }, 'proceed'],
  ['side-copy with --confirm: refused, nothing to confirm', { risk: 'side-copy', given: PROD }, /^--confirm is only for plans that change production; this plan is side-copy/],
  ['read-only with --confirm and --dry-run', { risk: 'read-only', given: PROD, dryRun: true }, /this plan is read-only, so there is nothing to confirm/],
  ['destructive, --confirm right, no terminal', { given: PROD }, 'proceed'],
  ['destructive, --confirm right, --json', { given: PROD, json: true }, 'proceed'],
  ['destructive, --confirm right, terminal (no prompt)', { given: PROD, interactive: true }, 'proceed'],
  ['destructive, --confirm wrong case', { given: 'AIAGENT_PROD', interactive: true }, /^--confirm does not match/],
  ['destructive, --confirm with a trailing space', { given: `${PROD} ` }, /^--confirm does not match/],
  ['destructive, --confirm wrong with --dry-run (checked anyway)', { given: 's3cr3t-pasted', dryRun: true }, /^--confirm does not match/],
  ['destructive, --dry-run alone', { dryRun: true }, 'proceed'],
  ['destructive, --dry-run --json', { dryRun: true, json: true }, 'proceed'],
  ['destructive, terminal: prompt', { interactive: true }, 'prompt'],
  ['destructive, --json on a terminal: no prompt mixed with JSON', { json: true, interactive: true }, /with --json it needs --confirm <production name>/],
  ['destructive, no terminal (CI, a pipe)', {}, /stdin is not a terminal/],
];

describe('decideConfirmation', () => {
  it.each(rows)('%s', (_name, input, expected) => {
    const decision = decideConfirmation({ ...base, ...input });
    if (typeof expected === 'string') {
      expect(decision.kind).toBe(expected);
      return;
    }
    expect(decision.kind).toBe('refuse');
    const error = (decision as { error: RecoverError }).error;
    expect([error.code, exitCodeFor(error.code)]).toEqual(['BAD_INPUT', 2]);
    expect(error.message).toMatch(expected);
    expect(error.message).toContain('Nothing ran.');
    // Never the value given back (it might be anything pasted), always what to do.
    if (input.given !== undefined && !input.given.startsWith(PROD)) expect(error.forChannel()).not.toContain(input.given);
  });

  it('refusals of an unconfirmed destructive plan say to review it with --dry-run, then pass --confirm <name>', () => {
    for (const input of [{}, { json: true, interactive: true }]) {
      const decision = decideConfirmation({ ...base, ...input });
      expect(decision.kind === 'refuse' && decision.error.hint).toBe(`Review the plan with --dry-run, then run the same command with --confirm ${PROD}.`);
    }
  });

  it('the prompt names what to type', () => {
    expect(decideConfirmation({ ...base, interactive: true })).toEqual({ kind: 'prompt', question: `Type the production name (${PROD}) to run this destructive plan: ` });
  });
});

describe('answerConfirms', () => {
  it.each([
    [PROD, null],
    [`  ${PROD}  `, null],
    ['s3cr3t-pasted', /^Not confirmed: that is not the production name\. Nothing ran\.$/],
    ['AIAGENT_PROD', /^Not confirmed: that is not the production name/],
    ['', /^Not confirmed: that is not the production name/],
    [null, /^Not confirmed: no answer \(end of input\)\. Nothing ran\.$/],
  ] as const)('%j', (answer, expected) => {
    const error = answerConfirms(PROD, answer);
    if (expected === null) return expect(error).toBeNull();
    expect([error?.code, error?.message]).toEqual(['BAD_INPUT', expect.stringMatching(expected)]);
    expect(error?.hint).toBe(`To run it, type exactly "${PROD}" (case-sensitive) at the prompt, or give --confirm ${PROD}.`);
    if (answer) expect(error!.forChannel()).not.toContain(answer);
  });
});

describe('confirmOrRefuse with injected streams', () => {
  const tty = (text: string | null) => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    if (text === null) stdin.end();
    else stdin.write(text);
    return stdin;
  };
  const stderr = () => {
    const out = { text: '', write: (chunk: string) => ((out.text += chunk), true) };
    return out;
  };
  const ask = { risk: 'destructive', expected: PROD, given: undefined, dryRun: false, json: false } as const;

  it('prompts on stderr and reads one line: the right name proceeds, the rest after it is left unread', async () => {
    const err = stderr();
    await confirmOrRefuse({ stdin: tty(`${PROD}\nmore\n`), stderr: err as unknown as NodeJS.WritableStream }, ask);
    expect(err.text).toBe(`Type the production name (${PROD}) to run this destructive plan: `);
  });

  it('a wrong name or end of input is refused', async () => {
    for (const input of ['prod\n', null]) {
      const error = await confirmOrRefuse({ stdin: tty(input), stderr: stderr() as unknown as NodeJS.WritableStream }, ask).then(() => null, (e: unknown) => e as RecoverError);
      expect(error?.message).toMatch(/^Not confirmed/);
    }
  });

  it('without a TTY on stdin (or no stdin at all) nobody is asked', async () => {
    for (const stdin of [undefined, new PassThrough()]) {
      const err = stderr();
      const error = await confirmOrRefuse({ ...(stdin ? { stdin } : {}), stderr: err as unknown as NodeJS.WritableStream }, ask).then(() => null, (e: unknown) => e as RecoverError);
      expect(error?.message).toMatch(/stdin is not a terminal/);
      expect(err.text).toBe('');
    }
  });

  it('stdin is not even looked at for a plan that is not destructive', async () => {
    const io = { stderr: stderr() as unknown as NodeJS.WritableStream, get stdin(): never { throw new Error('stdin was read') } };
    await confirmOrRefuse(io, { ...ask, risk: 'side-copy' });
  });

  it('askLine: one line, or null at end of input', async () => {
    const out = new PassThrough();
    const input = new PassThrough();
    input.end('first\r\nsecond\n');
    expect(await askLine(input, out, '? ')).toBe('first');
    const empty = new PassThrough();
    empty.end();
    expect(await askLine(empty, out, '? ')).toBeNull();
  });
});

describe('--confirm NAME in the words', () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      return error as RecoverError;
    }
    throw new Error('not refused');
  };

  it.each([
    [['a', '--confirm', PROD, 'b'], { rest: ['a', 'b'], confirm: PROD }],
    [['--confirm=' + PROD, 'a'], { rest: ['a'], confirm: PROD }],
    [['a', 'b'], { rest: ['a', 'b'], confirm: undefined }],
  ] as const)('takeConfirm %j', (tokens, expected) => {
    expect(takeConfirm(tokens)).toEqual(expected);
  });

  it.each([[['--confirm']], [['--confirm', '--json']], [['--confirm=']], [['--confirm', 'a', '--confirm', 'b']]])('takeConfirm refuses %j', (tokens) => {
    expect(refusal(() => takeConfirm(tokens)).code).toBe('BAD_INPUT');
  });

  it('withCommonCliFlags takes --confirm out only for commands that accept it', () => {
    const seen: string[][] = [];
    const parse = (words: string[]) => seen.push(words);
    expect(withCommonCliFlags(parse, ['x', '--confirm', PROD, '--json']).cli).toEqual({ json: true, dryRun: false, confirm: PROD });
    expect(seen.at(-1)).toEqual(['x']);
    withCommonCliFlags(parse, ['x', '--confirm', PROD], ['--json']);
    expect(seen.at(-1)).toEqual(['x', '--confirm', PROD]);
  });

  const destructiveWords: [string, string[]][] = [
    ['pitr', ['--latest', '--to', 'in-place']],
    ['rows', ['t', '--where', 'id = 1', '--from-instance', 'rows-x', '--db', 'app']],
    ['table', ['t', '--from-instance', 'table-x', '--mode', 'replace', '--db', 'app']],
    ['database', ['app', '--swap', 'app_restored_20250101000000']],
  ];

  it.each(destructiveWords)('%s: the CLI takes --confirm, destructive by risk(); Slack refuses it', (name, words) => {
    const command = findCommand(name)!;
    const { args, cli } = command.parseCli!([...words, '--confirm', PROD]);
    expect(cli.confirm).toBe(PROD);
    expect(command.risk(args)).toBe('destructive');
    expect(command.confirmation(args, { production: { name: PROD } })).toBe(PROD);
    const slack = refusal(() => command.parse([...words, '--confirm', PROD]));
    expect([slack.code, slack.message]).toEqual(['BAD_INPUT', expect.stringContaining('--confirm')]);
  });

  it('read-only commands refuse --confirm as an option they do not take', () => {
    for (const command of COMMANDS.filter((c) => c.home === 'runner' && c.report)) {
      const error = refusal(() => command.parseCli!(['--confirm', PROD]));
      expect([command.name, error.code]).toEqual([command.name, 'BAD_INPUT']);
    }
  });
});
