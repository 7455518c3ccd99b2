import { describe, expect, it } from 'vitest';
import { failoverArgs, failoverConfirmation } from '../../../commands/failover/args.js';
import { archiveText, failoverPlan, lossWindow } from '../../../commands/failover/plan.js';
import type { FailoverFacts, PrimaryProbe, StandbyFacts } from '../../../src/engine/failover/facts.js';
import { applyLagSeconds, bytesBehind, lagDecision, parseDuration, type ReplaySample } from '../../../src/engine/failover/lag.js';
import { RecoverError } from '../../../src/errors.js';

const at = new Date('2026-12-06T12:00:00Z');
const sample = (over: Partial<ReplaySample> = {}): ReplaySample => ({ receivedLsn: '0/3000100', replayedLsn: '0/3000100', lastReplayedCommit: new Date(at.getTime() - 5000), paused: false, at, ...over });
const rule = { maxLagSeconds: 60, acceptedLossSeconds: null };

describe('lag rule', () => {
  it.each([
    ['caught up', sample(), false, 'promote'],
    ['caught up and paused: promotion ends the pause', sample({ paused: true }), false, 'promote'],
    ['behind and paused', sample({ replayedLsn: '0/3000000', paused: true }), false, 'resume'],
    ['behind before the deadline', sample({ replayedLsn: '0/3000000' }), false, 'wait'],
    ['behind at the deadline, lag 5 s under the limit', sample({ replayedLsn: '0/3000000' }), true, 'promote'],
    ['behind at the deadline, lag 120 s', sample({ replayedLsn: '0/3000000', lastReplayedCommit: new Date(at.getTime() - 120_000) }), true, 'refuse'],
    ['behind at the deadline, nothing replayed yet (unknown lag)', sample({ replayedLsn: '0/3000000', lastReplayedCommit: null }), true, 'refuse'],
    ['nothing streamed: the replay position counts as received', sample({ receivedLsn: null }), true, 'promote'],
  ] as const)('%s → %s', (_name, s, deadline, action) => {
    expect(lagDecision(s, rule, deadline).action).toBe(action);
  });

  it('--accept-data-loss promotes within the window accepted, and still refuses beyond it', () => {
    const lagging = sample({ replayedLsn: '0/3000000', lastReplayedCommit: new Date(at.getTime() - 120_000) });
    expect(lagDecision(lagging, { maxLagSeconds: 60, acceptedLossSeconds: 300 }, true)).toMatchObject({ action: 'promote', why: expect.stringContaining('300 s accepted') });
    expect(lagDecision(lagging, { maxLagSeconds: 60, acceptedLossSeconds: 100 }, true)).toMatchObject({ action: 'refuse', why: expect.stringContaining('above the 100 s accepted') });
  });

  it('measures bytes behind and the apply lag', () => {
    expect(bytesBehind(sample({ replayedLsn: '0/3000000' }))).toBe(0x100);
    expect(applyLagSeconds(sample())).toBe(0);
    expect(applyLagSeconds(sample({ replayedLsn: '0/3000000' }))).toBe(5);
  });

  it.each([['90', 90], ['90s', 90], ['15m', 900], ['2h', 7200], ['1d', null], ['m', null], ['-5', null]] as const)('duration %s → %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
});

describe('failover words', () => {
  it.each([
    [[], { primaryUnreachable: false }],
    [['--primary-unreachable'], { primaryUnreachable: true }],
    [['--accept-data-loss', '10m'], { primaryUnreachable: false, acceptDataLossSeconds: 600 }],
  ])('%j', (tokens, args) => {
    expect(failoverArgs([...tokens])).toEqual(args);
  });

  it.each([[['now']], [['--accept-data-loss']], [['--accept-data-loss', 'soon']], [['--force']], [['--primary-unreachable=yes']]])('refuses %j', (tokens) => {
    expect(() => failoverArgs([...tokens])).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('the confirmation states the window accepted', () => {
    expect(failoverConfirmation({ primaryUnreachable: false }, 'aiagent_prod')).toBe('aiagent_prod');
    expect(failoverConfirmation({ primaryUnreachable: false, acceptDataLossSeconds: 600 }, 'aiagent_prod')).toBe('aiagent_prod/lose-up-to-600s');
  });
});

const standby = (over: Partial<StandbyFacts> = {}): StandbyFacts => ({
  ...sample(),
  label: '10.1.0.5:5432',
  inRecovery: true,
  receiver: { status: 'streaming', lastMessage: at, senderHost: '10.0.0.5', senderPort: 5432 },
  segmentSize: 16 * 1024 * 1024,
  ...over,
});
const up: PrimaryProbe = { label: '10.0.0.5:5432', reachable: true, detail: 'it answers and accepts connections', currentLsn: '0/3000100' };
const down: PrimaryProbe = { label: '10.0.0.5:5432', reachable: false, detail: 'it does not answer (timeout)', currentLsn: null };
const facts = (over: Partial<FailoverFacts> = {}) => ({
  standby: standby(),
  primary: up,
  archive: { newest: { name: '000000010000000000000002', archivedAt: at }, error: null },
  fence: { method: 'hook' as const, dataDir: null, argv: ['fence-db', '--now'] },
  switchArgv: ['kubectl', '-n', 'api', 'rollout', 'restart', 'deployment/api'],
  reconnect: 'connections' as const,
  runnerHost: 'dr-runner-1',
  settings: { maxLagSeconds: 60, catchUpTimeoutSeconds: 600, reconnectTimeoutSeconds: 300 },
  now: at,
  production: { name: 'aiagent_prod' },
  requestId: 'r1',
  ...over,
});
const args = { primaryUnreachable: false };
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as RecoverError;
  }
  throw new Error('not refused');
};

describe('failover plan', () => {
  it('primary reachable with a fence hook: catch up, fence, promote, check, verify, switch, reconnect', () => {
    const plan = failoverPlan(args, facts());
    expect(plan.risk).toBe('destructive');
    expect(plan.steps.map((s) => s.kind)).toEqual(['catch-up', 'fence', 'promote', 'check-writes', 'verify', 'switch', 'reconnect']);
    expect(plan.steps.find((s) => s.kind === 'fence')!.title).toContain('fence-db --now');
    expect(plan.steps.find((s) => s.kind === 'switch')!.title).toContain('kubectl -n api rollout restart deployment/api');
    expect(plan.facts['Data-loss window']).toMatch(/^None expected/);
    expect(plan.params).toMatchObject({ standby: '10.1.0.5:5432', fence: 'hook', acceptedLossSeconds: null, requestedAt: at.toISOString() });
  });

  it('a local primary is fenced with pg_ctl; no switch configured: neither switch nor reconnect', () => {
    const plan = failoverPlan(args, facts({ fence: { method: 'pg_ctl', dataDir: '/srv/pg/data', argv: null }, switchArgv: null, reconnect: null }));
    expect(plan.steps.map((s) => s.kind)).toEqual(['catch-up', 'fence', 'promote', 'check-writes', 'verify']);
    expect(plan.params).toMatchObject({ fence: 'pg_ctl', fenceDataDir: '/srv/pg/data' });
    // Only the runner on that host may fence its data directory: the plan is bound to it (runner/routing.ts).
    expect(plan.runsOn).toEqual({ host: 'dr-runner-1', dataDir: '/srv/pg/data' });
    expect(failoverPlan(args, facts()).runsOn).toBeUndefined();
    expect(plan.facts['Application switch']).toContain('not configured');
  });

  it('refuses to fence with pg_ctl through a directory that is not the answering primary\'s', () => {
    const fence = { method: 'pg_ctl' as const, dataDir: '/srv/pg/standby', argv: null, localDirProblem: 'RECOVER_SOURCE_DATA_DIR /srv/pg/standby is not the data directory of the server on port 5432, which runs from /srv/pg/data' };
    const error = refusal(() => failoverPlan(args, facts({ fence })));
    expect(error).toMatchObject({ code: 'FAILOVER_REFUSED', message: expect.stringContaining('will not fence it with pg_ctl: RECOVER_SOURCE_DATA_DIR /srv/pg/standby is not'), hint: expect.stringContaining('SHOW data_directory') });
  });

  it('refuses a primary that answers and cannot be fenced', () => {
    const error = refusal(() => failoverPlan(args, facts({ fence: { method: 'none', dataDir: null, argv: null } })));
    expect(error).toMatchObject({ code: 'FAILOVER_REFUSED', message: expect.stringContaining('two writable primaries') });
  });

  it('an unreachable primary that cannot be fenced needs --primary-unreachable, and the plan says so plainly', () => {
    const noFence = { fence: { method: 'pg_ctl' as const, dataDir: '/srv/pg/data', argv: null }, primary: down };
    expect(refusal(() => failoverPlan(args, facts(noFence)))).toMatchObject({ code: 'FAILOVER_REFUSED', hint: expect.stringContaining('--primary-unreachable') });
    const plan = failoverPlan({ primaryUnreachable: true }, facts(noFence));
    expect(plan.steps.map((s) => s.kind)).not.toContain('fence');
    expect(plan.facts.Fencing).toMatch(/^NONE: the old primary can be neither reached nor fenced/);
    expect(plan.facts['Data-loss window']).toMatch(/^Unknown, bounded by the last contact/);
  });

  it('an unreachable primary with a fence hook is still fenced (the hook runs anyway)', () => {
    expect(failoverPlan(args, facts({ primary: down })).steps.map((s) => s.kind)).toContain('fence');
  });

  it('refuses a standby that is already a primary', () => {
    expect(refusal(() => failoverPlan(args, facts({ standby: standby({ inRecovery: false }) })))).toMatchObject({ code: 'FAILOVER_REFUSED' });
  });

  it('shows the replication state, the lag and a paused replay', () => {
    const s = standby({ replayedLsn: '0/3000000', paused: true, receiver: null });
    const plan = failoverPlan({ primaryUnreachable: false, acceptDataLossSeconds: 600 }, facts({ standby: s }));
    expect(plan.facts).toMatchObject({ Standby: expect.stringContaining('PAUSED'), Replication: expect.stringContaining('not connected'), 'Received / replayed': expect.stringContaining('256 byte(s) behind') });
    expect(plan.facts['Lag rule']).toContain('600 s accepted');
    expect(lossWindow(s, up)).toContain('replayed before promotion, not lost');
  });

  it.each([
    ['000000010000000000000002', 'nothing archived beyond what the standby received'],
    ['000000010000000000000003', 'the archive reaches 16776960 byte(s) past what the standby received'],
    ['000000010000000000000004', 'the archive reaches 33554176 byte(s) past'],
  ])('the archive (newest %s) against received 0/3000100: %s', (name, text) => {
    expect(archiveText(standby(), { newest: { name, archivedAt: at }, error: null })).toContain(text);
  });

  it('an unreadable or empty archive is said, and the window of an unreachable primary names it', () => {
    expect(archiveText(standby(), { newest: null, error: 'region unavailable' })).toBe('the WAL archive could not be read (region unavailable)');
    expect(archiveText(standby(), { newest: null, error: null })).toBe('the WAL archive holds no segment');
    const archive = { newest: { name: '000000010000000000000003', archivedAt: at }, error: null };
    expect(lossWindow(standby(), down, archive)).toContain('/recover pitr from the archive would keep them');
  });
});
