/**
 * The plan preview shows exactly one expected duration, computed one way (the sum of the
 * steps' estimates), whatever facts the plan carries: a plan from a runner that still adds an
 * "Expected duration" fact of its own used to show two different figures.
 */
import { describe, expect, it } from 'vitest';
import { expectedSeconds, planPreviewMessage, type PlanPreviewInput } from '../../../src/slack/views/plan.js';
import type { Plan } from '../../../src/types.js';
import { plan, valid } from './fixtures.js';

const input = (p: Plan): PlanPreviewInput => ({
  requestId: '11111111-2222-3333-4444-555555555555',
  requesterId: 'U0ALICE',
  commandText: 'pitr 2025-01-15T14:29:59+00:00',
  plan: p,
  digest: 'ab'.repeat(32),
  required: 1,
  approvers: ['<@U0BOB>'],
  state: { kind: 'open' },
});

const durationLines = (text: string): string[] => text.split('\n').filter((line) => /duration/i.test(line));

describe('plan preview: one expected duration', () => {
  it.each<[string, Record<string, string>, string]>([
    ['no duration fact', { Target: 'x' }, '*Expected duration:* about 2 min 12 s'],
    ['a duration fact that disagrees (as pitr plans had)', { Target: 'x', 'Expected duration': 'about 1 min' }, '*Expected duration:* about 2 min 12 s'],
    ['a differently cased duration fact', { 'expected DURATION': 'about 9 h' }, '*Expected duration:* about 2 min 12 s'],
  ])('%s', (_name, facts, expected) => {
    const text = valid(planPreviewMessage(input({ ...plan, facts })));
    expect(durationLines(text)).toEqual([expected]);
    expect(text).not.toContain('about 1 min');
    expect(text).not.toContain('about 9 h');
  });

  it('is the sum of the step estimates, or unknown without any', () => {
    expect(expectedSeconds(plan)).toBe(132);
    const noEstimates = { ...plan, steps: plan.steps.map(({ estimateSeconds: _unused, ...step }) => step) };
    expect(durationLines(valid(planPreviewMessage(input(noEstimates))))).toEqual(['*Expected duration:* unknown']);
  });
});
