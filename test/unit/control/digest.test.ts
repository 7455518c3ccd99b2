import { describe, expect, it } from 'vitest';
import { canonicalJson, planDigest } from '../../../src/control/digest.js';
import type { Plan } from '../../../src/types.js';

function samplePlan(): Plan {
  return {
    command: 'restore-table',
    summary: 'Restore public.orders to 12:00 into a side instance',
    risk: 'side-copy',
    steps: [
      { kind: 'restore-base-backup', title: 'Restore base backup', params: { backupId: 'b1', port: 6543 }, destructive: false },
      { kind: 'copy-back', title: 'Copy rows back', params: { table: 'public.orders', lsn: 0x16b3748n }, destructive: true },
    ],
    facts: { backup: 'b1', window: '10:00–13:00' },
  };
}

describe('canonicalJson', () => {
  it.each([
    ['sorted keys, no whitespace', { b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    ['nested objects sorted too', { z: { y: 1, x: 2 } }, '{"z":{"x":2,"y":1}}'],
    ['bigint as a string', { lsn: 12345678901234567890n }, '{"lsn":"12345678901234567890"}'],
    ['Date as ISO', { at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) }, '{"at":"2024-01-02T03:04:05.006Z"}'],
    ['undefined members dropped', { a: undefined, b: 2 }, '{"b":2}'],
    ['undefined in arrays becomes null', [undefined, 1], '[null,1]'],
    ['negative zero is 0', { n: -0 }, '{"n":0}'],
    ['keys ordered by code unit', { b: 1, B: 2, é: 3, a: 4 }, '{"B":2,"a":4,"b":1,"é":3}'],
    ['strings escaped as JSON', { s: 'a"b\n' }, '{"s":"a\\"b\\n"}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([
    ['NaN', { n: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['a Map', { m: new Map([['a', 1]]) }],
    ['a Set', new Set([1])],
    ['an invalid Date', new Date('nope')],
    ['undefined at the top', undefined],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(/canonicalJson/);
  });

  it('refuses cycles but accepts a shared (non-circular) object', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
  });
});

const REQ = '6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11';

describe('planDigest', () => {
  it('is a sha256 hex string', () => {
    expect(planDigest(samplePlan(), REQ)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order', () => {
    const plan = samplePlan();
    const reordered = {
      facts: { window: plan.facts.window, backup: plan.facts.backup },
      steps: plan.steps.map((s) => ({ destructive: s.destructive, params: s.params, title: s.title, kind: s.kind })),
      risk: plan.risk,
      summary: plan.summary,
      command: plan.command,
    } as Plan;
    expect(planDigest(reordered, REQ)).toBe(planDigest(plan, REQ));
  });

  it('survives a round trip through JSON (as through jsonb)', () => {
    const plan = samplePlan();
    const roundTripped = JSON.parse(canonicalJson(plan)) as Plan;
    expect(planDigest(roundTripped, REQ)).toBe(planDigest(plan, REQ));
  });

  const changes: Array<[string, (plan: Plan) => void]> = [
    ['a step param', (p) => void (p.steps[0]!.params.port = 6544)],
    ['a bigint param', (p) => void (p.steps[1]!.params.lsn = 0x16b3749n)],
    ['a step title', (p) => void (p.steps[0]!.title = 'Restore base backup b1')],
    ['a step kind', (p) => void (p.steps[0]!.kind = 'restore-base-backup-v2')],
    ['the destructive flag', (p) => void (p.steps[1]!.destructive = false)],
    ['the step order', (p) => void p.steps.reverse()],
    ['a removed step', (p) => void p.steps.pop()],
    ['an added estimate', (p) => void (p.steps[0]!.estimateSeconds = 60)],
    ['the risk', (p) => void (p.risk = 'destructive')],
    ['a fact', (p) => void (p.facts.backup = 'b2')],
  ];
  it('covers the request id: the same plan for two requests has two digests', () => {
    const other = '0b6f2a51-7a1e-4c8e-9d35-2f0c7c1e5a90';
    expect(planDigest(samplePlan(), other)).not.toBe(planDigest(samplePlan(), REQ));
    expect(() => planDigest(samplePlan(), '')).toThrow(/needs the id of its request/);
  });

  it.each(changes)('changes when %s changes', (_name, change) => {
    const plan = samplePlan();
    const changed = samplePlan();
    change(changed);
    expect(planDigest(changed, REQ)).not.toBe(planDigest(plan, REQ));
  });
});
