/**
 * A command's declared steps and what its run reports must agree: the runner refuses a step
 * that is not in the plan (job-events.ts), so a drift would fail real jobs. Each command that
 * runs is planned and run here against a real sandbox (pitr to a side instance, pitr in place,
 * verify on production and on the side instance), and the step.started kinds are compared
 * with the plan's step kinds, in order. Then `recover verify` through the bundled CLI.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COMMANDS, findCommand, type RecoverCommand } from '../../../commands/index.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import type { EngineEvent } from '../../../src/types.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { oneJsonObject, runBundledCli } from '../../support/run-bundled-cli.js';

let sandbox: Sandbox;
let env: Record<string, string>;
const started: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query('CREATE TABLE workflows (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())', [], 'aiagent_prod');
  await sandbox.query('INSERT INTO workflows (id) SELECT generate_series(1, 40)', [], 'aiagent_prod');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO workflows (id) SELECT generate_series(41, 50)', [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  sandbox.config.verifyTables = [{ table: 'workflows', timestampColumn: 'updated_at' }];
  env = sandbox.cliEnv({ RECOVER_VERIFY_TABLES: 'workflows:updated_at' });
}, 180_000);

afterAll(async () => {
  for (const dataDir of started) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', dataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
});

/** Plans the Slack words as the runner does, runs the plan, and returns the plan's and the run's step kinds. */
async function planAndRun(command: RecoverCommand, words: string[]) {
  const events: EngineEvent[] = [];
  const engine = { ...sandbox.context(), events: { emit: (event: EngineEvent) => void events.push(event) } };
  const ctx = { engine, config: sandbox.config, cli: null };
  const args = command.parse(words);
  const facts = { ...(await command.gather!(ctx, args)), now: new Date(), production: { name: 'aiagent_prod' }, requestId: 'steps-test' };
  const plan = command.plan!(args, facts);
  const result = await command.run!({ ...ctx, beforeDestructiveStep: async () => undefined }, command.paramsSchema!.parse(plan.params));
  const ran = events.flatMap((event) => (event.type === 'step.started' ? [event.step] : []));
  return { planned: plan.steps.map((step) => step.kind), ran, result, declared: (command.steps ?? []).map((step) => step.kind) };
}

test('every command that runs declares its steps, and every runner command that has no run is answered by its plan', () => {
  for (const command of COMMANDS.filter((c) => c.home === 'runner')) {
    if (command.run) {
      expect(command.steps?.length, command.name).toBeGreaterThan(0);
      expect(command.paramsSchema, command.name).toBeDefined();
    } else expect(command.report, command.name).toBeDefined();
  }
});

describe('declared steps = reported steps, in order', () => {
  test('pitr to a side instance', async () => {
    const { planned, ran, declared, result } = await planAndRun(findCommand('pitr')!, ['--latest', '--instance', 'steps-side']);
    started.push((result as { dataDir: string }).dataDir);
    expect(ran).toEqual(planned);
    expect(planned.every((kind) => declared.includes(kind))).toBe(true);
  });

  test('verify on production and on the side instance', async () => {
    const production = await planAndRun(findCommand('verify')!, []);
    expect(production.ran).toEqual(production.planned);
    expect((production.result as { report: { ok: boolean } }).report.ok).toBe(true);
    const side = await planAndRun(findCommand('verify')!, ['aiagent_prod', '--instance', 'steps-side']);
    expect(side.ran).toEqual(side.planned);
    const report = (side.result as { report: { ok: boolean; subject: string; databases: { name: string; tables: { table: string; rows: number }[] }[] } }).report;
    expect(report).toMatchObject({ ok: true, subject: 'side instance steps-side' });
    expect(report.databases[0]?.tables.find((t) => t.table === 'workflows')?.rows).toBe(50);
    // A side instance is compared with production (informational): the configured table's row count on both.
    const compared = (side.result as { report: { checks: { name: string; ok: boolean; informational?: boolean; message: string }[] } }).report.checks.find((c) => c.name === 'compared with production aiagent_prod');
    expect(compared).toMatchObject({ ok: true, informational: true, message: expect.stringMatching(/production aiagent_prod at an earlier time, so differences are expected\. Row counts: the table has the same row count on both$/) });
    expect((production.result as { report: { checks: { name: string }[] } }).report.checks.map((c) => c.name)).not.toContain('compared with production aiagent_prod');
  });

  test('pitr in place', async () => {
    const { planned, ran, declared } = await planAndRun(findCommand('pitr')!, ['--latest', '--to', 'in-place']);
    expect(planned).toContain('stop-production');
    expect(ran).toEqual(planned);
    expect(planned.every((kind) => declared.includes(kind))).toBe(true);
  });
});

describe('recover verify (bundled CLI): the same words as /recover verify', () => {
  test('production passes: exit 0, one JSON object with the integrity report', async () => {
    const run = await runBundledCli(['verify', 'aiagent_prod', '--json'], env);
    expect(run.code).toBe(0);
    const out = oneJsonObject(run.stdout) as { ok: boolean; result: { checked: string; report: { ok: boolean; checks: { name: string }[] } } };
    expect(out.result.checked).toBe('production aiagent_prod');
    expect(out.result.report.checks.map((c) => c.name)).toEqual(['connection', 'checksum failures', 'database aiagent_prod']);
  });

  test('text output names every check and the newest rows', async () => {
    const run = await runBundledCli(['verify', '--instance', 'steps-side'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Verified side instance steps-side: passed');
    expect(run.stdout).toMatch(/workflows {2}50 rows {2}newest /);
  });

  test('a database production lacks is refused naming those it has (exit 3); bad words exit 2; no such instance is refused', async () => {
    const unknown = await runBundledCli(['verify', 'no_such_db', '--json'], env);
    expect(unknown.code).toBe(3);
    const refusal = oneJsonObject(unknown.stdout) as { ok: boolean; code: string; message: string };
    expect(refusal).toMatchObject({ ok: false, code: 'DATABASE_NOT_FOUND' });
    expect(refusal.message).toContain('aiagent_prod');
    for (const words of [["x'; DROP TABLE t; --"], ['--instance', '../etc'], ['--port', '5432'], ['--dry-run']]) {
      const bad = await runBundledCli(['verify', ...words], env);
      expect(bad.code, words.join(' ')).toBe(2);
    }
    const missing = await runBundledCli(['verify', '--instance', 'nothing-here'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('There is no side instance named nothing-here');
  });
});
