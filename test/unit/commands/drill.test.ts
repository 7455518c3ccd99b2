import { describe, expect, it } from 'vitest';
import { drill } from '../../../commands/drill.js';

const facts = { now: new Date('2025-01-15T02:00:00Z'), production: { name: 'prod' }, requestId: 'r1' };

describe('/recover drill', () => {
  it.each([
    [[], { mode: 'run' }],
    [['history'], { mode: 'history', limit: 10 }],
    [['history', '25'], { mode: 'history', limit: 25 }],
  ])('parses %j', (tokens, args) => {
    expect(drill.parse(tokens)).toEqual(args);
    expect(drill.risk(args as never)).toBe(args.mode === 'run' ? 'side-copy' : 'read-only');
  });

  it.each([[['now']], [['history', '0']], [['history', 'x']], [['history', '5', 'more']]])('refuses %j naming the usage', (tokens) => {
    expect(() => drill.parse(tokens)).toThrow(expect.objectContaining({ code: 'BAD_INPUT', hint: expect.stringContaining('drill [history [N]]') }));
  });

  it('plans a drill as the side restore steps plus removal, the RTO starting at the request', () => {
    const plan = drill.plan!({ mode: 'run' }, facts);
    expect(plan.risk).toBe('side-copy');
    expect(plan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify', 'remove-instance']);
    expect(plan.steps.every((s) => !s.destructive)).toBe(true);
    expect(plan.params).toEqual({ mode: 'run', requestedAt: '2025-01-15T02:00:00.000Z' });
    expect(drill.paramsSchema!.parse(plan.params)).toEqual(plan.params);
  });

  it('plans the history as a read-only report showing the gathered text', () => {
    const none = drill.plan!({ mode: 'history', limit: 5 }, { ...facts, rows: [], text: 'No restore drills yet.' });
    expect(none).toMatchObject({ risk: 'read-only', facts: { History: 'No restore drills yet.' }, params: { mode: 'history', limit: 5 } });
    const row = { id: '1', pool: 'p', trigger: 'schedule' as const, requestedAt: new Date('2025-01-15T02:00:00Z'), finishedAt: new Date(), ok: false, backupId: null, target: null, rtoSeconds: null, error: { code: 'RESTORE_FAILED', message: 'gone' } };
    const plan = drill.plan!({ mode: 'history', limit: 5 }, { ...facts, rows: [row], text: '', objective: { rtoSeconds: 7200, warnShare: 0.5 } });
    expect(plan.facts).toEqual({
      'Restore drills, newest first (1; 1 failed; RTO goal 2 h 0 min, warned past 50 %)': '• 2025-01-15T02:00:00Z  scheduled  FAILED (RESTORE_FAILED)  backup -',
      Trend: 'not enough successful drills for a trend',
      Warnings: ':warning: newest drill: the drill failed (RESTORE_FAILED: gone): a restore now might fail the same way\n:warning: 1 of the last 1 drills failed',
    });
  });

  it('a failed drill is a failed job; a passed one is not', () => {
    const base = { mode: 'run' as const, id: '1', instanceName: 'drill-x', removed: true, pool: 'p', trigger: 'command' as const, requestedAt: '2025-01-15T02:00:00Z', backupId: 'b1', target: 'latest', rtoSeconds: 30 };
    expect(drill.verdict!({ ...base, ok: true, error: null }, { mode: 'run', requestedAt: '' })).toBeNull();
    expect(drill.verdict!({ ...base, ok: false, error: { code: 'VERIFY_FAILED', message: 'checks failed' } }, { mode: 'run', requestedAt: '' })?.code).toBe('VERIFY_FAILED');
    expect(drill.format!({ ...base, ok: true, error: null })).toBe('Restore drill passed: backup b1, RTO 30 s, side instance drill-x removed; recorded as drill 1.');
  });
});
