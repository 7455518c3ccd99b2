/** `/recover verify`: the words (Slack and CLI), its plan, and the runner's refusal of a step its plan does not hold. */
import type pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { findCommand } from '../../../commands/index.js';
import { verify } from '../../../commands/verify.js';
import { JobEventWriter } from '../../../src/runner/job-events.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';
import { refusal } from '../../support/refusal.js';

const facts = { checked: 'production', now: new Date('2025-01-15T10:00:00Z'), production: { name: 'aiagent_prod' }, requestId: 'r1' };

describe('verify words', () => {
  it('takes database names as words or --db, and --instance', () => {
    expect(verify.parse([])).toEqual({});
    expect(verify.parse(['aiagent_prod', 'other'])).toEqual({ db: ['aiagent_prod', 'other'] });
    expect(verify.parse(['--db', 'a,b', '--instance', 'pitr-20250115T100000Z-abc'])).toEqual({ db: ['a', 'b'], instance: 'pitr-20250115T100000Z-abc' });
  });

  it('refuses hostile names, unknown options and CLI-only words in Slack; the CLI takes --json only', () => {
    for (const words of [["x'; DROP TABLE t; --"], ['--instance', '..'], ['--instance', 'a/b'], ['--instance'], ['--port', '5432'], ['--json'], ['--dry-run']]) {
      const error = refusal(() => verify.parse(words));
      expect(error.code, words.join(' ')).toBe('BAD_INPUT');
      expect(exitCodeFor(error.code)).toBe(2);
    }
    expect(verify.parseCli!(['aiagent_prod', '--json'])).toEqual({ args: { db: ['aiagent_prod'] }, cli: { json: true, dryRun: false } });
    expect(() => verify.parseCli!(['--dry-run'])).toThrow(RecoverError);
  });
});

describe('verify plan', () => {
  it('is read-only, one declared step, no confirmation; runs on the runner', () => {
    expect(findCommand('verify')).toBe(verify);
    expect(verify.home).toBe('runner');
    expect(verify.risk({})).toBe('read-only');
    expect(verify.confirmation({}, facts)).toBeNull();
    const plan = verify.plan!({ db: ['aiagent_prod'] }, facts);
    expect(plan).toMatchObject({ command: 'verify', risk: 'read-only', params: { instance: null, databases: ['aiagent_prod'] } });
    expect(plan.summary).toBe('Verify aiagent_prod on production aiagent_prod: connection, integrity checks, row counts, newest rows');
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['verify', false]]);
    expect(verify.paramsSchema!.parse(plan.params)).toEqual({ instance: null, databases: ['aiagent_prod'] });
    const side = verify.plan!({ instance: 'side-1' }, { ...facts, checked: 'side instance side-1' });
    expect(side.facts).toEqual({ Checks: 'side instance side-1', Databases: 'all databases' });
  });

  it('a failed report is VERIFY_FAILED in the CLI (exit 1); a passed one is not', () => {
    const report = { ok: false, checks: [{ name: 'database x', ok: false, message: 'database x does not exist in production aiagent_prod' }], databases: [] };
    const failure = verify.verdict!({ checked: 'production aiagent_prod', report }, { instance: null, databases: ['x'] });
    expect(failure?.code).toBe('VERIFY_FAILED');
    expect(exitCodeFor(failure!.code)).toBe(1);
    expect(verify.verdict!({ checked: 'p', report: { ...report, ok: true } }, { instance: null, databases: null })).toBeNull();
  });
});

describe('the runner and a command whose run drifts from its plan', () => {
  it('a step.started the plan does not hold throws (the job fails there) instead of dropping the checkpoint', async () => {
    const plan = verify.plan!({}, facts);
    const writes: unknown[] = [];
    const db = { query: async (...args: unknown[]) => (writes.push(args), { rows: [{ id: 1 }], rowCount: 1 }) } as unknown as pg.Pool;
    const writer = new JobEventWriter(db, 'job-1', 'runner-1', plan, pino({ level: 'silent' }));
    const drift = refusal(() => writer.emit({ type: 'step.started', at: '2025-01-15T10:00:00Z', step: 'undeclared-step', title: 'x' }));
    expect(drift.code).toBe('INTERNAL');
    expect(drift.message).toContain('Step "undeclared-step" ran but is not in the plan (verify)');
    await expect(writer.flush()).rejects.toThrow(/not in the plan/);
    expect(writes).toEqual([]);
  });
});
