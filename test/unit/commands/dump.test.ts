/** /recover dump: words, refusals that say what to write, the pure plan, and the view. */
import { describe, expect, test } from 'vitest';
import { chooseDump, dump, POST_DATA_MAINTENANCE_MB } from '../../../commands/dump/index.js';
import { parseDump } from '../../../commands/dump/args.js';
import { dumpSummary } from '../../../commands/dump/view.js';
import type { DumpEntry } from '../../../src/engine/dumps/manifest.js';
import { tocCheck } from '../../../src/engine/dumps/restore.js';
import { refusal } from '../../support/refusal.js';
import { manifestFor } from '../../support/dump-manifest-fixture.js';

describe('words', () => {
  test.each([
    [['app'], { db: 'app', from: null, as: null, jobs: 2, noOwner: false }],
    [['app', '--from', '20261206232400', '--jobs', '4'], { from: '20261206232400', jobs: 4 }],
    [['app', '--as', 'app_back', '--no-owner'], { as: 'app_back', noOwner: true }],
  ])('%j', (tokens, expected) => {
    expect(parseDump(tokens)).toMatchObject(expected);
  });
  test.each([
    [[], /Name the database/],
    [['app', '--from', 'yesterday'], /--from: a dump stamp \(14 digits/],
    [['app', '--from', '../etc/x.dump'], /or the path of a .dump blob/],
    [['app', '--as', 'x;drop'], /--as: a database name/],
    [['app', '--jobs', '0'], /--jobs/],
    [['app', '--as'], /--as needs a value/],
    [['app', 'extra'], /Unexpected words: extra/],
    [['app', '--swap', 'x'], /Unknown option --swap/],
  ])('%j refused', (tokens, message) => {
    const error = refusal(() => parseDump(tokens));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toMatch(message);
  });
  test('the CLI takes the same words and names itself in the hint', () => {
    expect(dump.parseCli!(['app', '--json']).cli.json).toBe(true);
    expect(refusal(() => dump.parseCli!([])).hint).toContain('recover dump <db>');
  });
});

const entry = (stamp: string): DumpEntry => ({ database: 'app', stamp, manifest: manifestFor('app', stamp), problem: null });
const facts = (extra: Partial<{ productionDatabases: string[]; dumps: DumpEntry[]; productionRoles: string[] }> = {}) => ({
  productionDatabases: ['postgres', 'app'],
  productionRoles: ['postgres', 'app_owner', 'app_reader'],
  dumps: [entry('20261201000000'), entry('20261206232400')],
  now: new Date('2026-12-07T00:00:00Z'),
  production: { name: 'aiagent_prod' },
  requestId: 'r1',
  ...extra,
});

describe('plan', () => {
  test('the newest dump, default name, steps in order, side-copy, nothing destructive', () => {
    const plan = dump.plan!(parseDump(['app', '--jobs', '3']), facts());
    expect(plan.risk).toBe('side-copy');
    expect(dump.confirmation(parseDump(['app']), { production: { name: 'aiagent_prod' } })).toBeNull();
    // Rows, indexes and keys in one step (engine/dumps/load.ts, the parallel loader): no separate index step.
    expect(plan.steps.map((s) => s.kind)).toEqual(['download', 'create-database', 'restore-schema', 'restore-data', 'analyze', 'verify']);
    expect(plan.steps.some((s) => s.destructive)).toBe(false);
    expect(plan.params).toEqual({ database: 'app', stamp: '20261206232400', newName: 'app_restored_20261206232400', jobs: 3, noOwner: false, maintenanceWorkMemMb: POST_DATA_MAINTENANCE_MB, files: 2, dumpBytes: 1200 });
    expect(plan.steps[3]!.title).toContain(`each table by one session, written frozen) and build the indexes, keys and foreign keys, each table's as soon as its rows are in (3 sessions, largest tables first, maintenance_work_mem ${POST_DATA_MAINTENANCE_MB} MB per session)`);
    expect(plan.facts).toMatchObject({ Then: '/recover database app --swap app_restored_20261206232400' });
    expect(String(plan.facts!.Owners)).toContain('app_owner, app_reader');
    expect(dump.paramsSchema!.parse(plan.params)).toEqual(plan.params);
  });
  test('--from, --as and --no-owner are shown', () => {
    const plan = dump.plan!(parseDump(['app', '--from', '20261201000000', '--as', 'app_back', '--no-owner']), facts());
    expect(plan.params).toMatchObject({ stamp: '20261201000000', newName: 'app_back', noOwner: true });
    expect(String(plan.facts!.Owners)).toContain('--no-owner --no-acl');
    expect(String(plan.facts!.Then)).toContain('not a app_restored_<stamp> name');
  });
  test.each([
    [['app', '--as', 'app'], {}, 'INSTANCE_EXISTS', /already exists on production/],
    [['app'], { productionDatabases: ['app_restored_20261206232400'] }, 'INSTANCE_EXISTS', /app_restored_20261206232400 already exists/],
    [['app'], { dumps: [] }, 'NO_DUMP', /no complete dump of app in storage/],
    [['app', '--from', '20200101000000'], {}, 'NO_DUMP', /taken at 20200101000000/],
  ] as const)('%j refused', (tokens, extra, code, message) => {
    const error = refusal(() => chooseDump(parseDump([...tokens]), facts(extra as never)));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});

test('the TOC check: every table with data in the dump has a recorded count', () => {
  expect(tocCheck(['customers', 'orders'], [{ table: 'customers', rows: 1 }, { table: 'orders', rows: 2 }]).ok).toBe(true);
  expect(tocCheck(['customers', 'orders'], [{ table: 'customers', rows: 1 }])).toMatchObject({ ok: false, message: expect.stringContaining('orders') });
});

test('summary: the swap as the follow-up of a verified default-named copy', () => {
  expect(dumpSummary({ database: 'app', stamp: '20261206232400' }, { newName: 'app_restored_20261206232400', swapCommand: '/recover database app --swap app_restored_20261206232400' })).toMatchObject({
    target: { text: 'dump app/20261206232400', time: null },
    followUps: [expect.stringContaining('/recover database app --swap app_restored_20261206232400')],
  });
  expect(dumpSummary(null, null)).toMatchObject({ target: null, followUps: [] });
});

describe('a foreign dump (--from <blob path>)', () => {
  test('the path is taken, its plan says what cannot be verified, the params carry it', () => {
    expect(parseDump(['app', '--from', 'legacy/app-2025.dump']).from).toBe('legacy/app-2025.dump');
    const like = { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8', provider: 'c', icuLocale: null, owner: 'postgres' };
    const plan = dump.plan!(parseDump(['app', '--from', 'legacy/app.dump']), { ...facts(), dumps: [], foreign: { path: 'legacy/app.dump', bytes: 4096, stamp: '20261207020000', like, roles: ['postgres'] } });
    expect(plan.params).toMatchObject({ newName: 'app_restored_20261207020000', dumpBytes: 4096, foreign: { path: 'legacy/app.dump', like } });
    expect(plan.steps[0]!.title).toContain('PGDMP');
    expect(String(plan.facts!['Not verifiable'])).toContain('no row counts');
    expect(dump.paramsSchema!.parse(plan.params)).toEqual(plan.params);
    expect(String(plan.facts!.Owners)).toContain('the roles its table of contents names (postgres) exist on production');
    // One custom-format file: pg_restore's alone, as the job runs it (the loader reads directory dumps).
    expect(plan.steps.find((s) => s.kind === 'restore-data')!.title).toContain('pg_restore -j 2, largest tables first');
  });
});

describe('roles the dump names, missing on production: refused at planning unless --no-owner', () => {
  const like = { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8', provider: 'c', icuLocale: null, owner: 'postgres' };
  const foreign = (roles: string[] | null) => ({ ...facts({ productionRoles: ['postgres'] }), dumps: [], foreign: { path: 'legacy/app.dump', bytes: 4096, stamp: '20261207020000', like, roles } });
  test.each([
    ['a stored dump', ['app'], facts({ productionRoles: ['postgres', 'app_owner'] }), 'app_reader'],
    ['a foreign dump', ['app', '--from', 'legacy/app.dump'], foreign(['app_owner', 'postgres', 'z"q']), 'app_owner, z"q'],
  ])('%s', (_name, tokens, given, listed) => {
    const error = refusal(() => dump.plan!(parseDump(tokens), given as never));
    expect([error.code, error.message]).toEqual(['ROLES_MISSING', `The dump names roles production aiagent_prod does not have: ${listed} (owners or grantees of its objects). Nothing was created.`]);
    expect(error.hint).toContain(`/recover dump ${tokens.slice(0).join(' ')} --no-owner`);
    expect(dump.plan!(parseDump([...tokens, '--no-owner']), given as never).params).toMatchObject({ noOwner: true });
  });
  test('a foreign dump whose table of contents was not read at planning: said, checked in the job', () => {
    const plan = dump.plan!(parseDump(['app', '--from', 'legacy/app.dump']), foreign(null) as never);
    expect(String(plan.facts!.Owners)).toContain('checked in the job');
  });
});
