/**
 * `--before-xid N`: recovery_target_xid = N, not inclusive (restore to just before N), in
 * Slack and the CLI; refused beside another target or --inclusive; plans say "just before".
 */
import { describe, expect, it } from 'vitest';
import { parseBeforeXid, parsePitrCli, pitr } from '../../../commands/pitr.js';
import type { PlanFacts } from '../../../commands/types.js';
import { recoverySettings } from '../../../src/engine/pg-settings.js';
import { refusal } from '../../support/refusal.js';
import { linearCatalog } from '../catalog/catalog-fixtures.js';

const facts = (): PlanFacts => ({
  catalog: linearCatalog(),
  now: new Date('2025-01-15T10:20:30.456Z'),
  production: { name: 'aiagent_prod' },
  requestId: '3f2a9c1e-0000-4000-8000-000000000001',
  instancesInUse: [],
});

describe('--before-xid', () => {
  it('is an xid target that is not inclusive, in Slack and the CLI', () => {
    for (const args of [pitr.parse(['--before-xid', '73519', '--db', 'app']), parsePitrCli(['--before-xid=73519', '--db', 'app', '--json'])]) {
      expect(args.target).toEqual({ kind: 'xid', xid: '73519' });
      expect(args.inclusive).toBe(false);
    }
    // --exclusive says the same thing again: allowed.
    expect(pitr.parse(['--before-xid', '73519', '--exclusive']).inclusive).toBe(false);
  });

  it('becomes recovery_target_xid with recovery_target_inclusive = off', () => {
    const settings = recoverySettings({ target: { kind: 'xid', xid: '73519' }, inclusive: false, action: 'promote', restoreCommand: 'x', archiving: 'off' });
    expect(settings).toMatchObject({ recovery_target_xid: '73519', recovery_target_inclusive: 'off' });
  });

  it('plans say "just before", so nobody approves the opposite', () => {
    const plan = pitr.plan!(pitr.parse(['--before-xid', '73519']), facts());
    expect(plan.facts.Target).toBe('just before transaction 73519 (its changes not replayed)');
    expect(plan.summary).toContain('just before transaction 73519');
    expect(plan.params).toMatchObject({ target: { kind: 'xid', xid: '73519' }, inclusive: false });
  });

  it.each([
    [['--before-xid', '5', '--xid', '6'], 'TARGET_CONFLICT', '--xid'],
    [['2025-01-15T10:20:30Z', '--before-xid', '5'], 'TARGET_CONFLICT', 'a time'],
    [['--at', '2025-01-15T10:20:30Z', '--before-xid', '5'], 'TARGET_CONFLICT', 'a time'],
    [['--before-xid', '5', '--latest'], 'TARGET_CONFLICT', '--latest'],
    [['--before-xid', '5', '--lsn', '0/3000000'], 'TARGET_CONFLICT', '--lsn'],
    [['--before-xid', '5', '--inclusive'], 'TARGET_CONFLICT', '--inclusive'],
    [['--before-xid'], 'BAD_INPUT', 'needs a value'],
    [['--before-xid', 'abc'], 'BAD_INPUT', 'not a transaction ID'],
    [['--before-xid', '2'], 'BAD_INPUT', 'not a transaction ID'],
    // PostgreSQL would refuse to start with it, after the base backup was restored: refused now.
    [['--before-xid', '18446744073709551616'], 'BAD_INPUT', 'not a transaction ID'],
    [['--before-xid', '4294967296'], 'BAD_INPUT', 'not a transaction ID'],
    [['--before-xid', '1;DROP'], 'BAD_INPUT', 'not a transaction ID'],
    [['--before-xid', '5', '--before-xid', '6'], 'BAD_INPUT', 'more than once'],
  ])('%j is refused (%s)', (words, code, words2) => {
    const error = refusal(() => pitr.parse(words));
    expect(error.code).toBe(code);
    expect(error.message).toContain(words2);
  });

  it('the shared parser is absent-safe for other commands', () => {
    expect(parseBeforeXid({}, false, 'hint')).toBeNull();
    expect(parseBeforeXid({ 'before-xid': '900' }, false, 'hint')).toEqual({ target: { kind: 'xid', xid: '900' }, inclusive: false });
  });
});
