/**
 * `recover verify` with RECOVER_VERIFY_CONFIG through the bundled CLI, on production: the
 * configured checks run and report where a defect is (exit 1), amcheck is not created on
 * production (skipped, said so), and an invalid checker file is refused before anything runs
 * (exit 2, naming the field).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { oneJsonObject, runBundledCli } from '../../support/run-bundled-cli.js';

let sandbox: Sandbox | undefined;
let good: string;
let bad: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE aiagent_prod');
  for (const sql of [
    'CREATE TABLE agents (id int PRIMARY KEY)',
    'CREATE TABLE agent_personas (id int PRIMARY KEY, agent_id int)',
    'INSERT INTO agents VALUES (1)',
    'INSERT INTO agent_personas VALUES (1, 1), (2, 42)',
  ]) await sandbox.query(sql, [], 'aiagent_prod');
  good = join(sandbox.root, 'verify.json');
  bad = join(sandbox.root, 'bad.json');
  const relation = { child: 'agent_personas', columns: ['agent_id'], parent: 'agents', parentColumns: ['id'] };
  await writeFile(good, JSON.stringify({ databases: { aiagent_prod: { criticalTables: ['agents', 'agent_personas'], relations: [relation] } } }));
  await writeFile(bad, JSON.stringify({ databases: { aiagent_prod: { relations: [{ ...relation, parentColumns: [] }] } } }));
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('the configured checks run on production: the orphan is found and named, amcheck is skipped, not created', async () => {
  const run = await runBundledCli(['verify', 'aiagent_prod', '--json'], sandbox!.cliEnv({ RECOVER_VERIFY_CONFIG: good }));
  expect(run.code).toBe(1);
  const out = oneJsonObject(run.stdout) as { code: string; result: { report: { ok: boolean; checks: { name: string; ok: boolean; message: string; skipped?: boolean }[] } } };
  expect(out.code).toBe('VERIFY_FAILED');
  const checks = out.result.report.checks;
  expect(checks.filter((c) => !c.ok).map((c) => [c.name, c.message])).toEqual([
    ['orphans aiagent_prod.agent_personas → agents', '1 row of agent_personas without a parent in agents (configured relation: agent_personas(agent_id) → agents(id)); e.g. agent_id=42'],
  ]);
  expect(checks.find((c) => c.name === 'critical tables aiagent_prod')).toMatchObject({ ok: true, message: 'all 2 critical tables exist' });
  expect(checks.find((c) => c.name === 'indexes aiagent_prod')).toMatchObject({ ok: true, skipped: true });
  expect(await sandbox!.query("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'", [], 'aiagent_prod')).toEqual([]);

  const text = await runBundledCli(['verify', 'aiagent_prod'], sandbox!.cliEnv({ RECOVER_VERIFY_CONFIG: good }));
  expect(text.stdout).toContain('✗ orphans aiagent_prod.agent_personas → agents: 1 row of agent_personas');
  expect(text.stdout).toContain('– indexes aiagent_prod: skipped: amcheck not installed in aiagent_prod');
});

test('an invalid checker file is refused before verifying, naming the field', async () => {
  const run = await runBundledCli(['verify', 'aiagent_prod'], sandbox!.cliEnv({ RECOVER_VERIFY_CONFIG: bad }));
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('databases.aiagent_prod.relations.0.parentColumns');
});
