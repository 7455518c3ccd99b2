/**
 * `/recover preflight` and `recover preflight` (runbook §1.1, §9): is recovery possible right
 * now? wal_level, archive_mode, archive_command (this tool's agent?), the archiver's health and
 * lag, base backups present and complete in storage, WAL continuity from the newest one, RPO
 * exposure against the objective, room for a restore where it would write, and the rights of
 * production's role. Read-only, answered by its plan (no job); the CLI exits 1 when a check fails.
 */
import { z } from 'zod';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import type { BaseFacts, RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { preflightChecks, worstStatus, type Check, type PreflightFacts } from './checks.js';
import { gatherPreflight } from './facts.js';

const schema = z.object({}).strict();
type NoArgs = Record<string, never>;

export interface PreflightReport {
  status: 'pass' | 'warn' | 'fail';
  checks: Check[];
}

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' } as const;

/** One line per check, with the fix on the next (CLI text). */
export function preflightText(report: PreflightReport): string {
  const lines = report.checks.flatMap((check) => [`${MARK[check.status]}  ${check.name}: ${check.detail}`, ...(check.fix && check.status !== 'pass' ? [`      → ${check.fix}`] : [])]);
  const counts = countsText(report.checks);
  return [`Preflight: ${report.status.toUpperCase()} (${counts})`, ...lines].join('\n');
}

function countsText(checks: readonly Check[]): string {
  const count = (status: Check['status']) => checks.filter((c) => c.status === status).length;
  return [`${count('fail')} failed`, `${count('warn')} warning(s)`, `${count('pass')} passed`, ...(count('skip') ? [`${count('skip')} skipped`] : [])].join(', ');
}

export function preflightReport(facts: PreflightFacts): PreflightReport {
  const checks = preflightChecks(facts);
  return { status: worstStatus(checks), checks };
}

const parse = (tokens: string[]): NoArgs => {
  if (tokens.length > 0) throw new RecoverError('BAD_INPUT', '`preflight` takes no arguments.', { hint: 'Example: /recover preflight' });
  return {};
};

export const preflight: RecoverCommand<NoArgs, { preflight: PreflightFacts }> = {
  name: 'preflight',
  usage: 'preflight',
  example: '/recover preflight',
  description: 'Is recovery possible right now? Archiving, backups complete in storage, WAL continuity, RPO exposure, space for a restore, roles. Read-only.',
  home: 'runner',
  schema: schema as z.ZodType<NoArgs>,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  risk: () => 'read-only',
  confirmation: () => null,
  gather: async (ctx) => ({ preflight: await gatherPreflight(ctx) }),
  report(_args, facts: { preflight: PreflightFacts } & BaseFacts) {
    const report = preflightReport(facts.preflight);
    return { result: report, text: preflightText(report) };
  },
  reportVerdict(result) {
    const report = result as PreflightReport;
    if (report.status !== 'fail') return null;
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.name);
    return new RecoverError('VERIFY_FAILED', `Preflight failed: ${failed.join(', ')}.`, { hint: 'Each failed check says what to do (above).' });
  },
  plan(_args, facts): Plan {
    const report = preflightReport(facts.preflight);
    return {
      command: 'preflight',
      summary: `Preflight: ${report.status.toUpperCase()} (${countsText(report.checks)})`,
      risk: 'read-only',
      steps: [{ kind: 'preflight', title: 'Check production, archiving, backups, WAL and space', params: {}, destructive: false, estimateSeconds: 3 }],
      facts: Object.fromEntries(report.checks.map((check) => [check.name, `${MARK[check.status]} — ${check.detail}${check.fix && check.status !== 'pass' ? `. ${check.fix}` : ''}`])),
    };
  },
};
