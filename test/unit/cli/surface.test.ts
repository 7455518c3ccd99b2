/**
 * Commands named in messages are in the syntax of the surface that shows them: what the CLI
 * prints (errors and hints, text and JSON results, plans, progress) never says `/recover …`,
 * the same texts in Slack do. A table of real texts from the commands and the engine, each
 * rendered by both surfaces' own renderers.
 */
import { describe, expect, it } from 'vitest';
import { backups } from '../../../commands/backups.js';
import { cancel } from '../../../commands/cancel.js';
import { parseDatabase } from '../../../commands/database-args.js';
import { formatPlan } from '../../../commands/format.js';
import { locate } from '../../../commands/locate.js';
import { formatLocate, type LocateResult } from '../../../commands/locate-format.js';
import { pitr } from '../../../commands/pitr.js';
import { status } from '../../../commands/status.js';
import { commandLine, forSurface, valueForSurface } from '../../../commands/surface.js';
import { parseTable } from '../../../commands/table-args.js';
import { table } from '../../../commands/table.js';
import type { RecoverCommand } from '../../../commands/types.js';
import { selectRestore } from '../../../src/catalog/select-restore.js';
import { terminalProgress } from '../../../src/cli/progress.js';
import { printFailure, printResult, type CliIo } from '../../../src/cli/runtime.js';
import { recordedCopyHint } from '../../../src/engine/database/copy-records.js';
import { RecoverError } from '../../../src/errors.js';
import type { RestoreSelection } from '../../../src/catalog/select-restore.js';
import { commandErrorMessage, notice } from '../../../src/slack/views/help.js';
import { Transcript } from '../../../devkit/slack-standin/index.js';
import { catalog } from '../catalog/catalog-fixtures.js';
import { refusal } from '../../support/refusal.js';

function captured(): { io: CliIo; out: () => string } {
  let text = '';
  const sink = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { io: { env: {}, stdout: sink, stderr: sink }, out: () => text };
}

/** Everything the CLI prints for a failure: the text on stderr and the --json object. */
function cliFailure(error: RecoverError): string {
  const text = captured();
  printFailure(text.io, false, error);
  const json = captured();
  printFailure(json.io, true, error);
  return `${text.out()}\n${json.out()}`;
}

const slackFailure = (error: RecoverError, command?: RecoverCommand<unknown>) => Transcript.textOf(commandErrorMessage(error, command));

const AT = '2025-01-15T14:29:59+00:00';
const selection = { backup: { id: 'b1', files: [], startLsn: '0/3000028', walSegmentSize: 16_777_216 }, requiredSegments: ['000000010000000000000003'], walBytes: 1 } as unknown as RestoreSelection;
const facts = { now: new Date('2025-01-15T15:00:00Z'), production: { name: 'aiagent_prod' }, requestId: 'req-1' };

/** Refusals people get, from the words and from the engine: [what, the error, the command it came from, the command line the CLI must show]. */
const refusals: [string, () => RecoverError, RecoverCommand<unknown> | undefined, string][] = [
  ['cancel without a job id', () => refusal(() => cancel.parse([])), cancel, 'recover jobs'],
  ['status of a word that is no job id', () => refusal(() => status.parse(['nope'])), status, 'recover status 6f1c1f0e'],
  ['backups with words', () => refusal(() => backups.parse(['x'])), backups, 'recover backups'],
  ['locate --where', () => refusal(() => locate.parse(['workflows', '--where', 'id = 1'])), locate, 'recover rows <table> --where'],
  ['pitr --before-xid of a word', () => refusal(() => pitr.parse(['--before-xid', 'abc'])), pitr, 'xid that recover locate printed'],
  ['database without its name', () => refusal(() => parseDatabase([])), undefined, 'e.g. recover database aiagent_prod --at'],
  ['a --backup that does not exist (select-restore)', () => refusal(() => selectRestore(catalog([], []), { kind: 'latest' }, { backupId: 'nope' })), undefined, 'Run `recover backups`'],
  ['a swap of an unrecorded copy', () => new RecoverError('COPY_UNVERIFIED', 'No record.', { hint: recordedCopyHint('app') }), undefined, 'recover database app --at'],
  ['table missing-rows of a dropped table', () => refusal(() => table.plan!(parseTable(['workflows', '--at', AT, '--mode', 'missing-rows']), { ...facts, database: 'app', selection, instancesInUse: [], asNewExists: false, live: { exists: false, keyed: false } })), undefined, ': recover table workflows --at 2025-01-15T14:29:59Z --mode as-new workflows --db app'],
];

describe('refusals: the CLI in its own syntax, Slack in its own', () => {
  it.each(refusals)('%s', (_what, make, command, cliLine) => {
    const error = make();
    const cli = cliFailure(error);
    expect(cli).not.toContain('/recover');
    expect(cli).toContain(cliLine);
    const slack = slackFailure(error, command);
    // Slack shows the same text; the usage it adds for a command's words names it as typed there.
    if (command || `${error.message}${error.hint ?? ''}`.includes('recover ')) expect(slack).toContain('/recover');
  });
});

describe('results and plans', () => {
  const tablePlan = table.plan!(parseTable(['workflows', '--before-xid', '73519', '--db', 'app']), { ...facts, database: 'app', selection, instancesInUse: [], asNewExists: false, live: { exists: true, keyed: true } } as never);
  const located: LocateResult = {
    database: 'app', table: 'public.workflows', relfilenodes: [], from: 'x', firstSegment: 'a', lastSegment: 'b', segmentsRead: 1, gapAt: null, tableRecords: 1, abortedTouching: 0, found: 1,
    transactions: [{ xid: 728, status: 'committed', commitTime: '2026-11-29T15:07:04.995085+00:00', commitLsn: '0/3002C10', subxacts: [], table: { inserted: 0, updated: 0, deleted: 5, truncated: false }, others: [], storage: null, oldStorage: [] }],
    notes: ['check which rows a transaction removed with /recover rows … --before-xid N'],
  };

  it.each([
    ['a plan whose follow-up names the next command (table, as --dry-run prints it)', formatPlan(tablePlan), 'Then: recover table workflows --from-instance'],
    ['locate\'s candidates and notes', formatLocate(located), 'recover pitr --before-xid 728 --db app'],
  ])('%s', (_what, text, cliLine) => {
    const out = captured();
    printResult(out.io, false, null, () => text);
    expect(out.out()).not.toContain('/recover');
    expect(out.out()).toContain(cliLine);
    // Slack's plan preview shows the same facts as written: its own syntax.
    expect(Transcript.textOf(notice(text.replace(/[*_`]/g, '')))).toMatch(/\/recover (table|rows)/);
  });

  it('a --json result: every string in it, the shape, numbers and dates kept', () => {
    const out = captured();
    const at = new Date('2025-01-15T15:00:00Z');
    printResult(out.io, true, { swapCommand: '/recover database app --swap app_restored_20250115150000', rows: [{ n: 1, note: 'run `/recover backups`' }], at }, () => '');
    expect(JSON.parse(out.out())).toEqual({ ok: true, result: { swapCommand: 'recover database app --swap app_restored_20250115150000', rows: [{ n: 1, note: 'run `recover backups`' }], at: at.toISOString() } });
  });

  it('progress on stderr: a failure naming a command', () => {
    const out = captured();
    terminalProgress(out.io.stderr, false).emit({ type: 'job.failed', at: new Date().toISOString(), code: 'WAL_GAP', message: 'A segment is missing. Check /recover backups.' });
    expect(out.out()).toBe('✗ A segment is missing. Check recover backups.\n');
  });
});

describe('forSurface and commandLine', () => {
  it.each([
    ['Run `/recover backups` first.', 'Run `recover backups` first.'],
    ['/recover pitr --latest', 'recover pitr --latest'],
    ['Then: /recover table t --from-instance x (or "/recover rows …")', 'Then: recover table t --from-instance x (or "recover rows …")'],
    ['start a new request with /recover if recovery is still needed', 'start a new request with recover if recovery is still needed'],
    // Not commands: recover-bot's name, paths, URLs.
    ['recover-bot and /recover-bot stay', 'recover-bot and /recover-bot stay'],
    ['/var/lib/recover/restores and https://x.example/recover stay', '/var/lib/recover/restores and https://x.example/recover stay'],
    ['/recovery/x and /recovered stay', '/recovery/x and /recovered stay'],
  ])('%s', (slack, cli) => {
    expect(forSurface(slack, 'cli')).toBe(cli);
    expect(forSurface(slack, 'slack')).toBe(slack);
  });

  it('commandLine', () => {
    expect(commandLine('slack', 'status 42')).toBe('/recover status 42');
    expect(commandLine('cli', 'status 42')).toBe('recover status 42');
    expect(valueForSurface({ a: ['/recover jobs'] }, 'slack')).toEqual({ a: ['/recover jobs'] });
  });
});
