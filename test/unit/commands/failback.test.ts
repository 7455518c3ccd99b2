import { describe, expect, it } from 'vitest';
import { failbackArgs, failbackPlan, rewindRefusal } from '../../../commands/failback/plan.js';
import type { BaseFacts } from '../../../commands/types.js';
import type { ControlData } from '../../../src/engine/crash/controldata.js';
import type { FailbackFacts, OldPrimaryFacts } from '../../../src/engine/failover/failback.js';
import type { ServerFacts } from '../../../src/engine/failover/switchover-facts.js';

const at = new Date('2026-12-06T12:00:00Z');
const control = (over: Partial<ControlData> = {}): ControlData => ({ systemIdentifier: '7', state: 'in production', timeline: 1, checkpointLsn: '0/3000100', redoLsn: '0/3000028', redoWalFile: '', checkpointWalFile: '', checkpointTime: null, walSegmentSize: 16 << 20, dataChecksumVersion: 0, catalogVersion: '1', fullPageWrites: true, walLogHints: true, ...over });
const dr = (over: Partial<ServerFacts> = {}): ServerFacts => ({ side: 'dr', label: 'dr:5432', reachable: true, detail: 'answers', inRecovery: false, systemId: '7', currentLsn: '0/5000000', replication: null, configFile: null, localDataDir: null, senders: [], ...over });
const old = (over: Partial<OldPrimaryFacts> = {}): OldPrimaryFacts => ({ dataDir: '/srv/pg/data', control: control(), controlError: null, running: false, server: null, ...over });
const facts = (d: ServerFacts, o: OldPrimaryFacts, drDataDir: string | null = null) =>
  ({ dr: d, old: o, drDataDir, sourceLabel: 'prod:5432', switchArgv: null, runnerHost: 'db1', settings: { catchUpTimeoutSeconds: 600, reconnectTimeoutSeconds: 300 }, now: at, production: { name: 'aiagent_prod' } }) as unknown as FailbackFacts & BaseFacts;

describe('failback refusals (rewind path)', () => {
  it.each([
    ['DR does not answer', dr({ reachable: false, detail: 'it does not answer (ECONNREFUSED)' }), old(), 'does not answer'],
    ['DR is still a standby', dr({ inRecovery: true }), old(), 'no failover to come back from'],
    ['no data directory here', dr(), old({ dataDir: null, control: null, controlError: 'RECOVER_SOURCE_DATA_DIR is not set on this runner' }), 'RECOVER_SOURCE_DATA_DIR is not set'],
    ['another cluster', dr(), old({ control: control({ systemIdentifier: '8' }) }), 'system identifier 8 vs 7'],
    ['neither wal_log_hints nor checksums', dr(), old({ control: control({ walLogHints: false }) }), 'needs wal_log_hints = on or data checksums, and its pg_control says wal_log_hints off and data page checksum version 0'],
    ['already a standby', dr(), old({ running: true, server: dr({ side: 'production', inRecovery: true }) }), 'already runs as a standby'],
  ])('%s → refused', (_name, d, o, text) => {
    const refused = rewindRefusal({ dr: d, old: o });
    expect(refused?.code).toBe('FAILOVER_REFUSED');
    expect(refused?.message).toContain(text);
  });

  it('data checksums without wal_log_hints: rewind allowed', () => {
    expect(rewindRefusal({ dr: dr(), old: old({ control: control({ walLogHints: false, dataChecksumVersion: 1 }) }) })).toBeNull();
  });
});

describe('failback plan', () => {
  it('an old primary running as a primary is stopped first; without DR\'s data directory here it ends as a standby', () => {
    const plan = failbackPlan({}, facts(dr(), old({ running: true, server: dr({ side: 'production', label: 'prod:5432', inRecovery: false }) })));
    expect(plan.steps.map((s) => s.kind)).toEqual(['fence-old', 'rewind', 'attach']);
    expect(plan.params).toMatchObject({ fence: true, switchover: null, slot: 'recover_rejoin' });
    expect(plan.facts['Old primary']).toContain('two primaries');
    expect(plan.facts.Afterwards).toContain('/recover switchover');
  });

  it("with DR's data directory here, the switchover follows: DR stopped, production promoted", () => {
    const plan = failbackPlan({}, facts(dr(), old(), '/srv/dr/data'));
    expect(plan.steps.map((s) => s.kind)).toEqual(['rewind', 'attach', 'prepare', 'stop-primary', 'replay-checkpoint', 'promote', 'rejoin']);
    expect(plan.params).toMatchObject({ switchover: { from: { side: 'dr', dataDir: '/srv/dr/data' }, to: { side: 'production', label: 'prod:5432' } } });
    expect(plan.runsOn).toEqual({ host: 'db1', dataDir: '/srv/pg/data' });
  });

  it('takes no words', () => {
    expect(failbackArgs([])).toEqual({});
    expect(() => failbackArgs(['--dump'])).toThrow(/takes no words/);
  });
});
