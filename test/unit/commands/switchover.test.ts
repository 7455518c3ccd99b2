import { describe, expect, it } from 'vitest';
import { switchoverArgs, switchoverPlan, switchoverRoles } from '../../../commands/switchover/plan.js';
import { primaryConninfo } from '../../../src/engine/failover/server-control.js';
import type { ServerFacts, SwitchoverFacts } from '../../../src/engine/failover/switchover-facts.js';
import { RecoverError } from '../../../src/errors.js';
import type { BaseFacts } from '../../../commands/types.js';

const at = new Date('2026-12-06T12:00:00Z');
const streaming = { label: 'dr:5432', inRecovery: true, receivedLsn: '0/3000100', replayedLsn: '0/3000100', lastReplayedCommit: at, paused: false, at, segmentSize: 16 << 20, receiver: { status: 'streaming', lastMessage: at, senderHost: 'prod', senderPort: 5432 } };
const primary = (over: Partial<ServerFacts> = {}): ServerFacts => ({ side: 'production', label: 'prod:5432', reachable: true, detail: 'answers', inRecovery: false, systemId: '7', currentLsn: '0/3000100', replication: null, configFile: '/srv/pg/data/postgresql.conf', localDataDir: '/srv/pg/data', senders: [{ name: 'dr', state: 'streaming' }], ...over });
const standby = (over: Partial<ServerFacts> = {}): ServerFacts => ({ side: 'dr', label: 'dr:5432', reachable: true, detail: 'answers', inRecovery: true, systemId: '7', currentLsn: null, replication: streaming, configFile: null, localDataDir: null, senders: [], ...over });

const facts = (production: ServerFacts, dr: ServerFacts): SwitchoverFacts & BaseFacts =>
  ({ servers: { production, dr }, switchArgv: null, reconnect: null, runnerHost: 'db1', sourceDataDir: '/srv/pg/data', settings: { catchUpTimeoutSeconds: 600, reconnectTimeoutSeconds: 300 }, now: at, production: { name: 'aiagent_prod' } }) as unknown as SwitchoverFacts & BaseFacts;

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof RecoverError ? `${error.code}: ${error.message}` : String(error);
  }
  return 'not refused';
};

describe('switchover roles', () => {
  it.each([
    ['the primary does not answer', primary({ reachable: false, detail: 'it does not answer (ECONNREFUSED)' }), standby(), 'needs both servers up'],
    ['both accept writes', primary(), standby({ inRecovery: false, replication: null }), 'TWO PRIMARIES'],
    ['both in recovery', primary({ inRecovery: true }), standby(), 'Neither'],
    ['another cluster', primary(), standby({ systemId: '8' }), 'system identifier 8 vs 7'],
    ['the standby does not stream', primary(), standby({ replication: { ...streaming, receiver: null } }), 'does not stream (WAL receiver not running)'],
    ["the primary's data directory is not here", primary({ localDataDir: null }), standby(), 'RECOVER_SOURCE_DATA_DIR is not set'],
    ["the primary's data directory setting names another server's", primary({ localDirProblem: 'RECOVER_SOURCE_DATA_DIR /srv/pg/data is not the data directory of the server on port 5432, which runs from /srv/pg/other' }), standby(), 'will not stop the primary prod:5432: RECOVER_SOURCE_DATA_DIR /srv/pg/data is not'],
  ])('%s → refused', (_name, production, dr, text) => {
    const shown = refusal(() => switchoverRoles({ production, dr }));
    expect(shown).toMatch(/^FAILOVER_REFUSED: /);
    expect(shown).toContain(text);
  });

  it('reads the roles from the servers: DR primary → it is stopped, production promoted', () => {
    const roles = switchoverRoles({ production: primary({ inRecovery: true, replication: streaming }), dr: standby({ inRecovery: false, replication: null, localDataDir: '/srv/dr/data' }) });
    expect([roles.from.side, roles.to.side]).toEqual(['dr', 'production']);
  });
});

describe('switchover plan', () => {
  it('stops production cleanly, waits for its checkpoint, promotes, rejoins through the slot; bound to this host', () => {
    const plan = switchoverPlan({}, facts(primary(), standby()));
    expect(plan.steps.map((s) => s.kind)).toEqual(['prepare', 'stop-primary', 'replay-checkpoint', 'promote', 'rejoin']);
    expect(plan.steps.filter((s) => s.destructive).map((s) => s.kind)).toEqual(['stop-primary', 'promote', 'rejoin']);
    expect(plan.runsOn).toEqual({ host: 'db1', dataDir: '/srv/pg/data' });
    expect(plan.params).toMatchObject({ from: { side: 'production', dataDir: '/srv/pg/data', configFile: null }, to: { side: 'dr', label: 'dr:5432' }, slot: 'recover_rejoin' });
    expect(plan.facts['Data loss']).toMatch(/^none/);
  });

  it('keeps a config_file outside the data directory (Debian) to start the old primary with', () => {
    const plan = switchoverPlan({}, facts(primary({ configFile: '/etc/postgresql/15/main/postgresql.conf' }), standby()));
    expect((plan.params as { from: { configFile: string } }).from.configFile).toBe('/etc/postgresql/15/main/postgresql.conf');
  });

  it('takes no words', () => {
    expect(switchoverArgs([])).toEqual({});
    expect(refusal(() => switchoverArgs(['--force']))).toMatch(/^BAD_INPUT: .*--force/);
  });
});

describe('primary_conninfo of a rejoined standby', () => {
  it.each([
    [{ host: 'db.dr', port: 5432, user: 'postgres' }, "host='db.dr' port='5432' user='postgres' application_name='recover_rejoined'"],
    [{ host: '/run/postgresql', port: 5433, user: 'repl', password: "it's\\x" }, "host='/run/postgresql' port='5433' user='repl' password='it\\'s\\\\x' application_name='recover_rejoined'"],
  ])('%o', (to, expected) => {
    expect(primaryConninfo(to, 'recover_rejoined')).toBe(expected);
  });
});
