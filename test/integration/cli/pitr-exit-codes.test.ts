/**
 * Issue 6 item 14, through the bundled CLI: 0 done, 1 failed (including a failed
 * verification), 2 bad input, 3 refused (the plan cannot be met). With --json, exactly one
 * object on stdout in every case. Refusals create nothing under the restore root.
 * Every exit code is seen from outside a real process (the bundled CLI); the table of bad
 * words and the further refusals call the same main() in-process (runCli: the same argv
 * parsing, exit code and output streams) so that each case does not start a process.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { entriesOf, oneJsonObject, runBundledCli } from '../../support/run-bundled-cli.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let restoreRoot: string;
const started: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query('CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users SELECT generate_series(1, 50)', [], 'aiagent_prod');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO users SELECT generate_series(51, 60)', [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  restoreRoot = join(sandbox.root, 'cli-restores');
  env = sandbox.cliEnv({ RECOVER_RESTORE_ROOT: restoreRoot });
}, 180_000);

afterAll(async () => {
  // Side instances the CLI left running on purpose (for people to inspect) are stopped here.
  for (const dataDir of started) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', dataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
});

const cli = (args: string[]) => runBundledCli(['pitr', ...args], env);
/** `recover pitr …` through main() in this process (no process start). */
const cliInProcess = (args: string[]) => runCli(['pitr', ...args], env);

describe('0: done', () => {
  test('--latest restores and verifies; --json prints one object with ok: true', async () => {
    const run = await cli(['--latest', '--db', 'aiagent_prod', '--json']);
    const result = oneJsonObject(run.stdout) as { ok: boolean; result: { dataDir: string; report: { ok: boolean }; state: string } };
    started.push(result.result.dataDir);
    expect(run.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.result.state).toBe('promoted');
    expect(result.result.report.ok).toBe(true);
  });

  test('--dry-run shows the plan and creates nothing', async () => {
    const before = await entriesOf(restoreRoot);
    const run = await cli(['--latest', '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const result = oneJsonObject(run.stdout) as { ok: boolean; result: { plan: { steps: unknown[]; params: { instanceName: string } } } };
    expect(result.ok).toBe(true);
    expect(result.result.plan.params.instanceName).toMatch(/^pitr-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(await entriesOf(restoreRoot)).toEqual(before);
  });
});

describe('1: failed', () => {
  test('a restore whose verification fails exits 1 (it used to print "Verification: FAILED" and exit 0)', async () => {
    const run = await cli(['--latest', '--db', 'no_such_db', '--json']);
    const result = oneJsonObject(run.stdout) as { ok: boolean; code: string; message: string; result: { dataDir: string; report: { ok: boolean } } };
    started.push(result.result.dataDir);
    expect(run.code).toBe(1);
    expect(result).toMatchObject({ ok: false, code: 'VERIFY_FAILED' });
    expect(result.message).toContain('no_such_db');
    expect(result.result.report.ok).toBe(false);
  });

  test('the same in text: the report on stdout, the error on stderr, exit 1', async () => {
    const run = await cli(['--latest', '--db', 'no_such_db']);
    const dataDir = /Data directory: (\S+)/.exec(run.stdout)?.[1];
    if (dataDir) started.push(dataDir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Verification: FAILED');
    expect(run.stderr).toContain('error [VERIFY_FAILED]');
  });
});

describe('2: bad input, nothing created', () => {
  test.each([
    [['--at', '2025-01-15 14:29:59'], 'TARGET_NO_ZONE'],
    [['--latest', '--xid', '5'], 'TARGET_CONFLICT'],
    [['--latest', '--bogus'], 'BAD_INPUT'],
    [['--latest', '--db', "x'; DROP TABLE users; --"], 'BAD_INPUT'],
    [['--latest', '--port', 'abc'], 'BAD_INPUT'],
    [['--latest', '--instance', '..'], 'BAD_INPUT'],
    [[], 'BAD_INPUT'],
  ])('%j → %s', async (args, code) => {
    const before = await entriesOf(restoreRoot);
    const json = await cliInProcess([...args, '--json']);
    expect(json.code).toBe(2);
    expect(oneJsonObject(json.stdout)).toMatchObject({ ok: false, code });
    const text = await cliInProcess(args);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(`error [${code}]`);
    expect(await entriesOf(restoreRoot)).toEqual(before);
  });

  test('a bad word through the bundled CLI process: exit 2, one JSON object, or stderr only', async () => {
    const before = await entriesOf(restoreRoot);
    const json = await cli(['--latest', '--bogus', '--json']);
    expect(json.code).toBe(2);
    expect(oneJsonObject(json.stdout)).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    const text = await cli(['--latest', '--bogus']);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain('error [BAD_INPUT]');
    expect(await entriesOf(restoreRoot)).toEqual(before);
  });

  test('an unknown command or a bad setting is bad input too', async () => {
    expect((await runBundledCli(['no-such-command'], env)).code).toBe(2);
    const badSetting = await runBundledCli(['pitr', '--latest', '--json'], { ...env, RECOVER_PREFETCH_PARALLEL: 'many' });
    expect(badSetting.code).toBe(2);
    expect(oneJsonObject(badSetting.stdout)).toMatchObject({ ok: false, code: 'CONFIG_INVALID' });
  });
});

describe('3: refused, nothing created', () => {
  test('a target beyond the archive', async () => {
    const before = await entriesOf(restoreRoot);
    const run = await cli(['--at', new Date(Date.now() + 3600_000).toISOString(), '--json']);
    expect(run.code).toBe(3);
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false, code: expect.stringMatching(/^(TARGET_OUTSIDE_WINDOW|WAL_GAP)$/) });
    expect(await entriesOf(restoreRoot)).toEqual(before);
  });

  test('a target before the first base backup, also with --dry-run', async () => {
    for (const extra of [[], ['--dry-run']]) {
      const run = await cliInProcess(['--at', '2000-01-01T00:00:00Z', ...extra]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('error [TARGET_OUTSIDE_WINDOW]');
    }
  });

  test('an instance name already in use is refused before anything runs, and the existing directory is untouched', async () => {
    await mkdir(join(restoreRoot, 'taken', 'data'), { recursive: true });
    const before = await entriesOf(restoreRoot);
    const run = await cliInProcess(['--latest', '--instance', 'taken', '--json']);
    expect(run.code).toBe(3);
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false, code: 'INSTANCE_EXISTS' });
    expect(await entriesOf(restoreRoot)).toEqual(before);
    expect(await entriesOf(join(restoreRoot, 'taken'))).toEqual(['data']);
    expect(await entriesOf(join(restoreRoot, 'taken', 'data'))).toEqual([]);
  });

  test('with no base backup at all', async () => {
    const run = await runCli(['pitr', '--latest', '--json'], { ...env, RECOVER_CONTAINER_BACKUPS: 'no-backups-here' });
    expect(run.code).toBe(3);
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false, code: 'NO_BASE_BACKUP' });
  });
});
