/**
 * Issue 6 items 4 and 13: hostile or wrong `recover pitr` words, through the bundled CLI,
 * against an archive that really could be restored (so a missing check would run a restore).
 * Every one is refused before anything runs — nothing appears under the restore root or next
 * to it — and Slack's `/recover pitr …` refuses the same words the same way.
 * The exit codes are seen from outside a real process (the bundled CLI) for one word of each
 * kind; the tables call the same main() in-process (runCli: the same argv parsing, checks,
 * exit code and output) so that each of their ~40 cases does not start a process.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findCommand, tokenize } from '../../commands/index.js';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { freePort } from '../../src/engine/local-cluster.js';
import { RecoverError } from '../../src/errors.js';
import { entriesOf, oneJsonObject, runBundledCli, type CliRun } from '../support/run-bundled-cli.js';
import { runCli } from '../support/run-cli.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let restoreRoot: string;
let rootEntries: string[];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.switchAndArchive();
  restoreRoot = join(sandbox.root, 'restores-under-test');
  env = sandbox.cliEnv({ RECOVER_RESTORE_ROOT: restoreRoot });
  rootEntries = await entriesOf(sandbox.root);
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

type Cli = (args: string[], env: Record<string, string>) => Promise<CliRun>;

/** Runs `recover pitr --latest <words> --json` (in-process unless `cli` says otherwise); expects a refusal with nothing created anywhere near the restore root. */
async function refused(words: string[], exit: number, code: string, cli: Cli = runCli): Promise<Record<string, unknown>> {
  const run = await cli(['pitr', '--latest', ...words, '--json'], env);
  const result = oneJsonObject(run.stdout);
  expect({ exit: run.code, result }).toMatchObject({ exit, result: { ok: false, code } });
  expect(await entriesOf(restoreRoot)).toEqual([]);
  expect(await entriesOf(sandbox.root)).toEqual(rootEntries);
  return result;
}

/** The same words typed in Slack: `/recover pitr --latest <words>`, through the bot's tokenizer and the shared parser. */
function slackRefusal(text: string): RecoverError {
  const tokens = tokenize(`pitr --latest ${text}`);
  try {
    findCommand(tokens[0]!)!.parse(tokens.slice(1));
  } catch (error) {
    expect(error).toBeInstanceOf(RecoverError);
    return error as RecoverError;
  }
  throw new Error(`Slack accepted ${text}`);
}

test('the archive is restorable: without the checks these words would run a restore', async () => {
  const run = await runBundledCli(['pitr', '--latest', '--dry-run', '--json'], env);
  expect(run.code).toBe(0);
  expect(oneJsonObject(run.stdout)).toMatchObject({ ok: true });
});

test('a hostile name through the bundled CLI process is bad input (exit 2), nothing created', async () => {
  const result = await refused(['--db', "x'; DROP TABLE t; --"], 2, 'BAD_INPUT', runBundledCli);
  expect(String(result.hint)).toContain('Usage: recover pitr');
});

describe('--db: hostile names are bad input (exit 2), in the CLI and in Slack', () => {
  test.each([
    "x'; DROP TABLE t; --",
    'x"; DROP TABLE t; --',
    '$(touch /tmp/pwned)',
    'a b',
    'db\nname',
    '',
    'x'.repeat(64),
    'dépôt',
    '-1',
  ])('%j', async (name) => {
    const result = await refused(['--db', name], 2, 'BAD_INPUT');
    expect(String(result.hint)).toContain('Usage: recover pitr');
    expect(slackRefusal(`--db "${name}"`).code).toBe('BAD_INPUT');
  });

  test('several names, one of them hostile', async () => {
    await refused(['--db', 'good', "x'; DROP TABLE t; --"], 2, 'BAD_INPUT');
    await refused(['--db', "good,x'--"], 2, 'BAD_INPUT');
  });
});

describe('--instance: only plain names inside the restore root (exit 2)', () => {
  test.each(['.', '..', '.hidden', '../escape', '../../etc', 'a/b', '/tmp/abs', 'a.b', '-dash', 'x'.repeat(64), 'with space', '..\\x'])('%j', async (name) => {
    await refused(['--instance', name], 2, 'BAD_INPUT');
    expect(slackRefusal(`--instance "${name}"`).code).toBe('BAD_INPUT');
  });
});

describe('--port: 1024-65535 and free, checked before anything runs', () => {
  test.each(['0', 'abc', '99999', '-1', '1023', '65536', '1e4', '0x1F90', '5432.5', ''])('%j is bad input (exit 2)', async (port) => {
    const result = await refused([`--port=${port}`], 2, 'BAD_INPUT');
    expect(String(result.message)).toContain('--port');
  });

  test('--port with no value is bad input, not "use a free one"', async () => {
    await refused(['--port'], 2, 'BAD_INPUT');
  });

  test('a port something listens on is refused (exit 3, PORT_IN_USE)', async () => {
    const port = await freePort();
    const server: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    try {
      const result = await refused(['--port', String(port)], 3, 'PORT_IN_USE', runBundledCli);
      expect(String(result.message)).toContain(String(port));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('Slack has no --port: the runner picks one', () => {
    expect(slackRefusal('--port 5433').message).toContain('only the recover CLI');
  });
});

describe('other wrong words are bad input too (exit 2)', () => {
  test.each([
    [['--to', 'everywhere']],
    [['--action', 'explode']],
    [['--backup', '../other']],
    [['--instance', 'ok', '--to', 'in-place']],
    [['--inclusive', '--exclusive']],
    [['--at', '2025-01-15T14:29:59Z']], // a second target next to --latest
    [['stray-word']],
  ])('%j', async (words) => {
    const run = await runCli(['pitr', '--latest', ...words, '--json'], env);
    expect(run.code).toBe(2);
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false });
    expect(await entriesOf(restoreRoot)).toEqual([]);
  });
});
