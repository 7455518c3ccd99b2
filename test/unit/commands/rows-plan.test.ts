/**
 * The plans of /recover rows (--at and --before-xid restore a side instance; --from-instance
 * copies), and what Slack shows of them: the preview counts as facts that fit whatever the number
 * of child tables, the summary with the preview and the exact follow-up command.
 */
import { describe, expect, it } from 'vitest';
import { Transcript, validateMessageContent } from '../../../devkit/slack-standin/index.js';
import { rows } from '../../../commands/rows.js';
import { tokenize } from '../../../commands/words.js';
import { followUpWords, formatRowsResult, previewFacts, type RowsResult } from '../../../commands/rows-view.js';
import { selectRestore } from '../../../src/catalog/select-restore.js';
import { timeTarget } from '../../../src/catalog/targets.js';
import type { RowsPreview, TablePreview } from '../../../src/engine/rows/copy-back.js';
import { summaryFactsOf } from '../../../src/slack/flows/summary-facts.js';
import { planPreviewMessage } from '../../../src/slack/views/plan.js';
import { summaryMessage } from '../../../src/slack/views/summary.js';
import type { Plan } from '../../../src/types.js';
import { linearCatalog } from '../catalog/catalog-fixtures.js';

const base = { now: new Date('2025-01-15T10:20:30.456Z'), production: { name: 'aiagent_prod' }, requestId: '3f2a9c1e-0000-4000-8000-000000000001' };
const words = ['workflows', '--where', 'user_id = 12345', '--with-children', '--db', 'aiagent_prod'];

function table(name: string, depth: number, missing: number): TablePreview {
  return { table: name, depth, via: depth ? `${name}_fkey → workflows` : null, matching: missing + 1, missing, present: 1, different: 0, conflicting: 0, parentSkipped: 0, sampleMissing: ['{"id":1}', '{"id":2}'], sampleDifferent: [], sampleConflicts: [], sampleParentSkipped: [] };
}
function preview(tables: TablePreview[]): RowsPreview {
  const sum = (key: 'matching' | 'missing' | 'present' | 'different' | 'conflicting') => tables.reduce((total, t) => total + t[key], 0);
  return { table: 'workflows', filter: 'user_id = 12345', withChildren: true, tables, totals: { matching: sum('matching'), missing: sum('missing'), present: sum('present'), different: sum('different'), conflicting: sum('conflicting'), parentSkipped: 0 }, digest: 'ab'.repeat(32) };
}

describe('rows --before-xid', () => {
  it('plans a side instance restored to just before the transaction (recovery_target_xid, exclusive)', () => {
    const args = rows.parse([...words, '--before-xid', '4000']);
    const selection = selectRestore(linearCatalog(), { kind: 'xid', xid: '4000' });
    const plan = rows.plan!(args, { ...base, selection, instancesInUse: [] });
    expect(plan.risk).toBe('side-copy');
    expect(plan.facts.Target).toBe('just before transaction 4000 (its changes not replayed)');
    expect(plan.summary).toContain('Restore a side instance to just before transaction 4000');
    expect(plan.steps.find((s) => s.kind === 'configure-recovery')!.title).toBe('Configure recovery to just before transaction 4000 (its changes not replayed)');
    expect(plan.params).toMatchObject({ form: 'restore', at: null, beforeXid: '4000', database: 'aiagent_prod' });
    expect(plan.facts.Then).toBe(`/recover rows workflows --where "user_id = 12345" --from-instance ${(plan.params as { instanceName: string }).instanceName} --with-children --db aiagent_prod`);
  });

  it('--at stays a time target, inclusive', () => {
    const args = rows.parse([...words, '--at', '2025-01-15T10:20:00+00:00']);
    const plan = rows.plan!(args, { ...base, selection: selectRestore(linearCatalog(), timeTarget('2025-01-15T10:20:00Z')), instancesInUse: [] });
    expect(plan.facts.Target).toBe('time 2025-01-15T10:20:00Z');
    expect(plan.params).toMatchObject({ at: '2025-01-15T10:20:00Z', beforeXid: null });
  });
});

describe('the follow-up command', () => {
  it('is words the tokenizer gives back as they were', () => {
    expect(followUpWords({ table: 'workflows', filter: "status = 'failed'", withChildren: false }, 'app', 'rows-1')).toBe(`rows workflows --where "status = 'failed'" --from-instance rows-1 --db app`);
    const quotedIdentifier = followUpWords({ table: 'workflows', filter: '"User Id" = 5', withChildren: true }, 'app', 'rows-1');
    expect(quotedIdentifier).toBe(`rows workflows --where '"User Id" = 5' --from-instance rows-1 --with-children --db app`);
    expect(rows.parse(tokenize(quotedIdentifier).slice(1))).toMatchObject({ table: 'workflows', where: '"User Id" = 5', fromInstance: 'rows-1', withChildren: true, db: 'app' });
  });
});

describe('Slack limits with many child tables', () => {
  const many = preview([table('workflows', 0, 10), ...Array.from({ length: 80 }, (_, i) => table(`child_table_number_${i}`, 1 + (i % 3), i))]);

  it('the copy plan keeps the totals and digest and sums the tables that do not fit', () => {
    const facts = previewFacts(many);
    expect(Object.keys(facts).slice(0, 3)).toEqual(['Filter', 'Will insert', 'Preview digest']);
    const restKey = Object.keys(facts).find((k) => /^Rows \d+–81$/.test(k))!;
    expect(restKey).toBeDefined();
    const shown = Object.keys(facts).filter((k) => /^Rows \d+$/.test(k)).length;
    expect(shown).toBeGreaterThan(5);
    expect(facts[restKey]).toContain(`${81 - shown} more tables`);
    const plan: Plan = { command: 'rows', summary: 'Insert rows', risk: 'destructive', steps: [{ kind: 'copy-rows', title: 'Insert', params: {}, destructive: true }], facts, params: {} };
    const message = planPreviewMessage({ requestId: 'r', requesterId: 'U0ALICE', commandText: 'rows workflows …', plan, digest: 'd', required: 1, approvers: ['<@U0BOB>'], state: { kind: 'open' } });
    expect(validateMessageContent(message)).toBeUndefined();
    const text = Transcript.textOf(message);
    expect(text).toContain(`*Will insert:* ${many.totals.missing} rows`);
    expect(text).toContain('*Preview digest:* abababab');
    expect(text).not.toContain('left out');
  });

  it('the restore summary shows the preview counts and the exact follow-up command, within limits', () => {
    const result: RowsResult = { form: 'restore', restored: { instanceName: 'rows-1', dataDir: '/r/rows-1/data', connect: 'psql -h /tmp -p 5999 -U postgres aiagent_prod', reachedTime: '2025-01-15T10:19:59Z', preview: many }, then: followUpWords({ table: 'workflows', filter: 'user_id = 12345', withChildren: true }, 'aiagent_prod', 'rows-1') };
    const plan: Plan = { command: 'rows', summary: 'Restore', risk: 'side-copy', steps: [], facts: {}, params: { form: 'restore', beforeXid: '4000', at: null } };
    const facts = summaryFactsOf(plan, JSON.parse(JSON.stringify(result)));
    expect(facts.target).toEqual({ text: 'just before transaction 4000', time: null });
    expect(facts.recovery?.reachedTime).toBe('2025-01-15T10:19:59Z');
    expect(facts.followUps[0]).toContain('/recover rows workflows --where "user_id = 12345" --from-instance rows-1 --with-children --db aiagent_prod');
    expect(facts.followUps[1]).toBe(`Preview (nothing written to production): ${many.totals.missing} missing in production, 81 present (skipped), 0 different (left alone), 0 conflicting (a unique value taken: not inserted).`);
    expect(facts.followUps.at(-1)).toMatch(/^…and \d+ more table\(s\): see the copy's plan\.$/);
    const message = summaryMessage({
      jobId: 'j', status: 'succeeded', command: 'rows …', summary: plan.summary, requestedBy: 'U0ALICE', requestedAt: new Date(), approvals: [], queuedAt: new Date(), startedAt: new Date(), finishedAt: new Date(),
      steps: [], facts, integrity: null, error: null, cancelledBy: null, objectives: { rpoSeconds: 900, rtoSeconds: 7200 },
    });
    expect(validateMessageContent(message)).toBeUndefined();
    const text = Transcript.textOf(message);
    expect(text).toContain('--from-instance rows-1 --with-children --db aiagent_prod');
    expect(text).not.toContain('left out');
    expect(formatRowsResult(result)).toContain('Then: recover rows workflows --where "user_id = 12345" --from-instance rows-1');
  });

  it('the copy summary reports restored / skipped / conflicting', () => {
    const plan: Plan = { command: 'rows', summary: 'Insert', risk: 'destructive', steps: [], facts: {}, params: { form: 'apply' } };
    const conflicts = [{ key: '{"id": 3}', reason: 'unique constraint accounts_email_key (email): its value is held by {"id": 100} in production' }];
    const tables = [{ table: 'workflows', restored: 10, skippedPresent: 2, conflicting: 2, different: 1, uniqueConflicts: 1, conflicts }, { table: 'workflow_executions', restored: 30, skippedPresent: 0, conflicting: 0 }];
    const facts = summaryFactsOf(plan, { form: 'apply', applied: { totals: { restored: 40, skippedPresent: 2, conflicting: 2, different: 1, uniqueConflicts: 1 }, tables, instanceName: 'rows-1', instanceRemoved: true } });
    expect(facts.target).toBeNull();
    expect(facts.followUps).toEqual([
      '40 rows restored, 2 skipped (present), 2 conflicting (left alone; 1 not inserted because a unique value is taken).',
      'workflows: 10 restored, 2 skipped, 2 conflicting (e.g. {"id": 3}: unique constraint accounts_email_key (email): its value is held by {"id": 100} in production)',
      'workflow_executions: 30 restored, 0 skipped, 0 conflicting',
      'Conflicting rows were left alone: rows present with other values, and missing rows whose unique value another row now holds (named above). Compare them with the side instance before changing anything.',
    ]);
    const kept = summaryFactsOf(plan, { form: 'apply', applied: { totals: { restored: 0, skippedPresent: 0, conflicting: 0 }, instanceName: 'rows-1', instanceRemoved: false } });
    expect(kept.followUps).toEqual(['0 rows restored, 0 skipped (present), 0 conflicting (left alone).', 'The side instance rows-1 was kept: stop and remove it when done.']);
  });
});

describe('conflicts: missing rows whose unique value another production row holds', () => {
  const conflicted: TablePreview = {
    ...table('accounts', 0, 1),
    conflicting: 1,
    sampleConflicts: ['{"id": 3}: unique constraint accounts_email_key (email): its value is held by {"id": 100} in production'],
  };

  it('the copy plan says they are not inserted and names the key and the constraint', () => {
    const facts = previewFacts(preview([conflicted]));
    expect(facts.Conflicting).toMatch(/^1 row missing by primary key is NOT inserted: another production row holds a unique value/);
    expect(facts['Rows 1']).toContain('1 conflicting (missing but a unique value is taken: not inserted)');
    expect(facts['Rows 1']).toContain('conflicting e.g. {"id": 3}: unique constraint accounts_email_key (email): its value is held by {"id": 100} in production');
    expect(previewFacts(preview([table('workflows', 0, 2)])).Conflicting).toBeUndefined();
  });

  it('the CLI text of the copy lists each conflict not inserted', () => {
    const copy = { table: 'accounts', restored: 1, skippedPresent: 3, conflicting: 2, different: 0, uniqueConflicts: 2, rowsBefore: 5, rowsAfter: 6, sideHash: 'a', productionHash: 'a', parentSkipped: 0, parentSkips: [], conflicts: [{ key: '{"id": 3}', reason: 'unique constraint accounts_email_key (email): its value is held by {"id": 100} in production' }] };
    const text = formatRowsResult({ form: 'apply', applied: { preview: preview([conflicted]), tables: [copy], sequences: [], totals: { restored: 1, skippedPresent: 3, conflicting: 2, different: 0, uniqueConflicts: 2, parentSkipped: 0 }, instanceName: 'rows-1', instanceRemoved: true } });
    expect(text).toContain('accounts: 1 restored, 3 skipped (present), 2 conflicting (left alone: 0 different, 2 with a unique value taken)');
    expect(text).toContain('    not inserted {"id": 3}: unique constraint accounts_email_key (email): its value is held by {"id": 100} in production');
    expect(text).toContain('Totals: 1 restored, 3 skipped, 2 conflicting (2 with a unique value taken)');
  });
});

describe('child rows skipped because of their parent (issue 17 item 5)', () => {
  const reason = 'its parent {"id": 45} in workflows is in production with other values (left alone; it may be a new row that took the key), so this row is not attached to it';
  const skippedKeys = ['{"id": 451}', '{"id": 452}', '{"id": 453}'];
  const executions: TablePreview = { ...table('workflow_executions', 1, 0), parentSkipped: 3, sampleParentSkipped: skippedKeys.map((key) => `${key}: ${reason}`) };

  it('the copy plan says they are not inserted, with keys and why', () => {
    const facts = previewFacts({ ...preview([table('workflows', 0, 2), executions]), totals: { ...preview([table('workflows', 0, 2), executions]).totals, parentSkipped: 3 } });
    expect(facts['Child rows skipped']).toMatch(/^3 child rows are NOT inserted: their parent does not go back or is in production with other values/);
    expect(facts['Rows 2']).toContain(`3 child rows skipped (their parent does not go back or differs in production: not inserted), e.g. {"id": 451}: ${reason}`);
  });

  it('the CLI text and the Slack summary list them by key', () => {
    const copy = { table: 'workflow_executions', restored: 0, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, rowsBefore: 5, rowsAfter: 5, sideHash: 'a', productionHash: 'a', conflicts: [], parentSkipped: 3, parentSkips: skippedKeys.map((key) => ({ key, reason })) };
    const totals = { restored: 0, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, parentSkipped: 3 };
    const text = formatRowsResult({ form: 'apply', applied: { preview: preview([executions]), tables: [copy], sequences: [], totals, instanceName: 'rows-1', instanceRemoved: true } });
    expect(text).toContain('  workflow_executions: 3 child rows skipped, not inserted because of their parent:');
    expect(text).toContain(`    skipped {"id": 452}: ${reason}`);
    expect(text).toContain('Totals: 0 restored, 0 skipped, 0 conflicting (0 with a unique value taken), 3 child rows skipped (parent not restored or different)');
    const plan: Plan = { command: 'rows', summary: 'Insert', risk: 'destructive', steps: [], facts: {}, params: { form: 'apply' } };
    const facts = summaryFactsOf(plan, { form: 'apply', applied: { totals, tables: [copy], instanceName: 'rows-1', instanceRemoved: true } });
    expect(facts.followUps).toContain(`workflow_executions: 0 restored, 0 skipped, 0 conflicting; 3 child rows skipped because of their parent ({"id": 451} {"id": 452} {"id": 453}: ${reason})`);
    expect(facts.followUps.some((line) => line.startsWith('3 child rows were NOT inserted because their parent was neither restored by this copy nor in production'))).toBe(true);
  });
});
