/**
 * Issue 19 item 2, through the bundled CLI on a real destructive plan (`recover pitr --latest
 * --to in-place`, which stops production): without a confirmation nothing runs. No terminal
 * and no --confirm → exit 2 at once; --confirm with anything but production's name → exit 2;
 * at a real pseudo-terminal the plan is shown and the name asked for: a wrong name or Ctrl-D
 * → exit 2, production untouched (the same postmaster, its data directory never moved); the
 * right name → production is restored in place.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { oneJsonObject, runBundledCli } from '../../support/run-bundled-cli.js';
import { runBundledCliInPty } from '../../support/run-in-pty.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let productionPid: string;
const IN_PLACE = ['pitr', '--latest', '--to', 'in-place'];

const pidOf = async (dataDir: string) => (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]!;
const movedAside = async () => (await readdir(dirname(sandbox.production.dataDir))).filter((name) => name.startsWith('data.before-pitr-'));

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users SELECT generate_series(1, 50)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO users SELECT generate_series(51, 60)');
  await sandbox.switchAndArchive();
  env = sandbox.cliEnv({ RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir });
  productionPid = await pidOf(sandbox.production.dataDir);
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

/** Production as it was: the same postmaster, its data directory never moved aside. */
async function productionUntouched(): Promise<void> {
  expect(await pidOf(sandbox.production.dataDir)).toBe(productionPid);
  expect(await movedAside()).toEqual([]);
  expect(await sandbox.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 60 }]);
}

describe('refused before anything runs (exit 2)', () => {
  test('no terminal, no --confirm: the plan on stderr, then how to confirm it', async () => {
    const run = await runBundledCli(IN_PLACE, env);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: '' });
    expect(run.stderr).toContain('Point-in-time recovery');
    expect(run.stderr).toContain('error [BAD_INPUT]: This plan is destructive and stdin is not a terminal, so nobody can confirm it at a prompt. Nothing ran.\nReview the plan with --dry-run, then run the same command with --confirm aiagent_prod.');
    await productionUntouched();
  });

  test('--json without --confirm: one JSON object on stdout, the plan on stderr', async () => {
    const run = await runBundledCli([...IN_PLACE, '--json'], env);
    expect(run.code).toBe(2);
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false, code: 'BAD_INPUT', message: expect.stringContaining('with --json it needs --confirm <production name>') });
    expect(run.stderr).toContain('Point-in-time recovery');
    await productionUntouched();
  });

  test('--confirm with another name (not echoed back)', async () => {
    for (const wrong of ['aiagent', 'AIAGENT_PROD', 'hunter2']) {
      const run = await runBundledCli([...IN_PLACE, '--confirm', wrong], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('error [BAD_INPUT]: --confirm does not match');
      expect(run.stderr).toContain('Give --confirm aiagent_prod');
      expect(run.stderr).not.toContain(wrong === 'aiagent' ? 'aiagent ' : wrong);
    }
    await productionUntouched();
  });

  test('--confirm on a side-copy plan: nothing to confirm', async () => {
    const run = await runBundledCli(['pitr', '--latest', '--dry-run', '--confirm', 'aiagent_prod'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--confirm is only for plans that change production; this plan is side-copy');
  });

  test('at a terminal: a wrong name typed, or Ctrl-D', async () => {
    for (const answer of ['aiagent_pro', null]) {
      const run = await runBundledCliInPty(IN_PLACE, env, answer);
      expect({ code: run.code, prompted: run.prompted, stdout: run.stdout }).toEqual({ code: 2, prompted: true, stdout: '' });
      // The plan came before the question.
      expect(run.stderr.indexOf('Point-in-time recovery')).toBeLessThan(run.stderr.indexOf('Type the production name (aiagent_prod) to run this destructive plan: '));
      expect(run.stderr).toContain(answer === null ? 'Not confirmed: no answer (end of input). Nothing ran.' : 'Not confirmed: that is not the production name. Nothing ran.');
      await productionUntouched();
    }
  });

  test('at a terminal with --json: no prompt mixed with JSON', async () => {
    const run = await runBundledCliInPty([...IN_PLACE, '--json'], env, 'aiagent_prod');
    expect({ code: run.code, prompted: run.prompted }).toEqual({ code: 2, prompted: false });
    expect(oneJsonObject(run.stdout)).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    await productionUntouched();
  });
});

test('at a terminal, the right name typed: production is restored in place', async () => {
  const run = await runBundledCliInPty(IN_PLACE, env, 'aiagent_prod');
  expect({ code: run.code, prompted: run.prompted }, run.stderr).toEqual({ code: 0, prompted: true });
  expect(await movedAside()).toHaveLength(1);
  expect(await pidOf(sandbox.production.dataDir)).not.toBe(productionPid);
  expect(await sandbox.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 60 }]);
}, 300_000);
