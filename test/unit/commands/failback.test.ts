import { describe, expect, it } from 'vitest';
import { failbackArgs, failbackPlan, rewindRefusal } from '../../../commands/failback/plan.js';
import { failbackPath } from '../../../commands/failback/path.js';
import { hashCheck } from '../../../src/engine/failover/failback-dump.js';
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
    ['running, RECOVER_SOURCE_URL does not answer', dr(), old({ running: true, server: dr({ side: 'production', reachable: false, detail: 'it does not answer (ECONNREFUSED)' }) }), 'the runner cannot tell it is the old primary'],
    ['running, RECOVER_SOURCE_URL not set', dr(), old({ running: true, server: null }), 'RECOVER_SOURCE_URL is not set'],
    ['running from a directory that is not its own', dr(), old({ running: true, server: dr({ side: 'production', localDirProblem: 'RECOVER_SOURCE_DATA_DIR /srv/pg/data is not the data directory of the server on port 5433' }) }), 'will not stop the server running from /srv/pg/data: RECOVER_SOURCE_DATA_DIR'],
    ["RECOVER_STANDBY_DATA_DIR not DR's", dr({ localDirProblem: 'RECOVER_STANDBY_DATA_DIR /srv/dr is not the data directory of the server on port 5432' }), old(), 'closing switchover would stop DR'],
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
    const plan = failbackPlan({ db: null, jobs: 2, noOwner: false }, facts(dr(), old({ running: true, server: dr({ side: 'production', label: 'prod:5432', inRecovery: false }) })));
    expect(plan.steps.map((s) => s.kind)).toEqual(['fence-old', 'rewind', 'attach']);
    expect(plan.params).toMatchObject({ fence: true, switchover: null, slot: 'recover_rejoin' });
    expect(plan.facts['Old primary']).toContain('two primaries');
    expect(plan.facts.Afterwards).toContain('/recover switchover');
  });

  it("with DR's data directory here, the switchover follows: DR stopped, production promoted", () => {
    const plan = failbackPlan({ db: null, jobs: 2, noOwner: false }, facts(dr(), old(), '/srv/dr/data'));
    expect(plan.steps.map((s) => s.kind)).toEqual(['rewind', 'attach', 'prepare', 'stop-primary', 'replay-checkpoint', 'promote', 'rejoin']);
    expect(plan.params).toMatchObject({ switchover: { from: { side: 'dr', dataDir: '/srv/dr/data' }, to: { side: 'production', label: 'prod:5432' } } });
    expect(plan.runsOn).toEqual({ host: 'db1', dataDir: '/srv/pg/data' });
  });

  it('takes an optional database and --jobs N', () => {
    expect(failbackArgs([])).toEqual({ db: null, jobs: 2, noOwner: false });
    expect(failbackArgs(['shop', '--jobs', '4'])).toEqual({ db: 'shop', jobs: 4, noOwner: false });
    expect(() => failbackArgs(['--dump'])).toThrow(/one database name, --jobs N and --no-owner/);
    expect(failbackArgs(['shop', '--no-owner'])).toEqual({ db: 'shop', jobs: 2, noOwner: true });
    expect(() => failbackArgs(['shop', '--no-owner=yes'])).toThrow(/got "--no-owner"/);
    expect(() => failbackArgs(['a', 'b'])).toThrow(/got "b"/);
    expect(() => failbackArgs(['shop', '--jobs', 'x'])).toThrow(/--jobs/);
  });
});

describe('failback path choice', () => {
  it.each([
    ['the same cluster survived', old(), 'rewind', /survived \(the same cluster as DR, system identifier 7\)/],
    ['no data directory on this runner', old({ dataDir: null, control: null, controlError: 'RECOVER_SOURCE_DATA_DIR is not set on this runner' }), 'dump', /^directory missing: RECOVER_SOURCE_DATA_DIR is not set/],
    ['the directory holds no pg_control', old({ control: null, controlError: '/srv/pg/data holds no global/pg_control' }), 'dump', /^directory missing: .*holds no global\/pg_control/],
    ['a rebuilt cluster in that directory', old({ control: control({ systemIdentifier: '8' }) }), 'dump', /^not this cluster: .*system identifier 8, DR 7/],
  ])('%s → %s', (_name, o, path, why) => {
    const chosen = failbackPath(o, '7');
    expect(chosen.path).toBe(path);
    expect(chosen.why).toMatch(why);
  });

  const rebuilt = (over: Partial<ServerFacts> = {}) => dr({ side: 'production', label: 'new:5432', systemId: '9', ...over });
  const onDr = { oid: '16384', owner: 'app', bytes: 8e6, encoding: 'UTF8', collate: 'C', ctype: 'C', provider: 'c', icuLocale: null };
  const dumpFacts = (r: ServerFacts, dump: unknown) => ({ ...facts(dr(), old({ dataDir: null, control: null, controlError: 'RECOVER_SOURCE_DATA_DIR is not set on this runner' })), rebuilt: r, dump }) as unknown as FailbackFacts & BaseFacts;
  const found = { database: 'shop', onDr, rebuiltOid: '16500', names: ['postgres', 'shop'], missingRoles: [] as string[] };

  it('the dump path plans a new database, the compare and the swap; the plan says why', () => {
    const plan = failbackPlan({ db: 'shop', jobs: 3, noOwner: false }, dumpFacts(rebuilt(), found));
    expect(plan.steps.map((s) => s.kind)).toEqual(['dump-dr', 'create-database', 'restore-schema', 'restore-data', 'verify', 'check-swap', 'swap']);
    expect(plan.steps.filter((s) => s.destructive).map((s) => s.kind)).toEqual(['swap']);
    expect(plan.risk).toBe('destructive');
    expect(plan.facts.Path).toMatch(/^dump \(directory missing: RECOVER_SOURCE_DATA_DIR is not set/);
    expect(plan.params).toEqual({ method: 'dump', dr: { label: 'dr:5432' }, database: 'shop', newName: 'shop_restored_20261206120000', beforeName: 'shop_before_20261206120000', databaseOid: '16500', jobs: 3, requestedAt: at.toISOString() });
  });

  it("roles DR's database names missing on the rebuilt primary: refused at planning, listed; --no-owner plans it, shown", () => {
    const lacking = { ...found, missingRoles: ['app_reader', 'app_writer'] };
    expect(() => failbackPlan({ db: 'shop', jobs: 2, noOwner: false }, dumpFacts(rebuilt(), lacking))).toThrow(/^The dump names roles the rebuilt primary new:5432 does not have: app_reader, app_writer \(owners or grantees/);
    const plan = failbackPlan({ db: 'shop', jobs: 2, noOwner: true }, dumpFacts(rebuilt(), lacking));
    expect(plan.params).toMatchObject({ noOwner: true });
    expect(String(plan.facts.Owners)).toContain('--no-owner: the copy\'s objects belong to the restoring role and NO grants are restored');
    expect(String(failbackPlan({ db: 'shop', jobs: 2, noOwner: false }, dumpFacts(rebuilt(), found)).facts.Owners)).toContain('kept, with grants');
  });

  it.each([
    ['no database named', { db: null, jobs: 2, noOwner: false }, rebuilt(), null, /none was named/],
    ['the rebuilt primary does not answer', { db: 'shop', jobs: 2, noOwner: false }, rebuilt({ reachable: false, detail: 'does not answer (ECONNREFUSED)' }), null, /does not answer/],
    ['the rebuilt primary is a standby', { db: 'shop', jobs: 2, noOwner: false }, rebuilt({ inRecovery: true }), found, /is in recovery/],
    ["RECOVER_SOURCE_URL is DR's cluster", { db: 'shop', jobs: 2, noOwner: false }, rebuilt({ systemId: '7' }), found, /DR's own cluster/],
    ['not on DR', { db: 'shop', jobs: 2, noOwner: false }, rebuilt(), { ...found, onDr: null }, /does not exist on the DR primary/],
  ])('%s → refused', (_name, args, r, dump, text) => {
    expect(() => failbackPlan(args, dumpFacts(r, dump))).toThrow(text);
  });

  it('the rebuilt primary has no <db> (a new cluster): the verified copy is renamed to it, nothing swapped; the plan says so', () => {
    const plan = failbackPlan({ db: 'shop', jobs: 2, noOwner: false }, dumpFacts(rebuilt(), { ...found, rebuiltOid: null }));
    expect(plan.params).toMatchObject({ method: 'dump', database: 'shop', databaseOid: null, newName: 'shop_restored_20261206120000' });
    expect(plan.summary).toBe('Fail back by dump: shop from dr:5432 restored as shop_restored_20261206120000 on new:5432 (which has no shop), compared, then renamed to shop');
    expect(plan.steps.slice(-2).map((s) => [s.kind, s.title, s.destructive])).toEqual([
      ['check-swap', 'Check shop is still absent and shop_restored_20261206120000 is the approved, verified copy', false],
      ['swap', 'Rename shop_restored_20261206120000 → shop (connections to it drained)', true],
    ]);
    expect(String(plan.facts.Swap)).toBe('connections to shop_restored_20261206120000 refused and drained, then shop_restored_20261206120000 → shop (nothing to keep aside)');
    expect(plan.risk).toBe('destructive');
  });

  it('a name already taken (a failback again in the same second) is never reused: both names get the same _2', () => {
    const plan = failbackPlan({ db: 'shop', jobs: 2, noOwner: false }, dumpFacts(rebuilt(), { ...found, names: ['shop', 'shop_before_20261206120000'] }));
    expect(plan.params).toMatchObject({ newName: 'shop_restored_20261206120000_2', beforeName: 'shop_before_20261206120000_2' });
  });

  it('the compare: equal rows and hashes pass, anything else is named', () => {
    const dr = { a: { rows: 2, hash: 'x' }, b: { rows: 1, hash: 'y' } };
    expect(hashCheck(dr, { ...dr })).toEqual({ ok: true, message: "2 tables, 3 rows: row counts and content hashes equal to DR's snapshot" });
    const bad = hashCheck(dr, { a: { rows: 3, hash: 'x' }, c: { rows: 0, hash: 'z' } });
    expect(bad.ok).toBe(false);
    expect(bad.message).toBe('a: 3 rows in the copy, 2 on DR; b: missing in the copy; c: only in the copy');
    expect(hashCheck(dr, { ...dr, b: { rows: 1, hash: 'q' } }).message).toBe('b: same 1 rows but different contents (hash)');
  });
});
