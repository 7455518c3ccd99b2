/** `/recover georestore`: its words and its plan (pure), as tables; refusals name what to do instead. */
import { describe, expect, it } from 'vitest';
import { georestoreArgs } from '../../../commands/georestore/args.js';
import { georestorePlan } from '../../../commands/georestore/plan.js';
import type { GeoRestoreFacts } from '../../../src/engine/azure/georestore.js';
import type { ServerFacts } from '../../../src/engine/azure/server.js';
import { refusal } from '../../support/refusal.js';

const now = new Date('2026-12-07T01:00:00Z');
const server = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  name: 'pg-prod', id: '/x', location: 'eastus', state: 'Ready', role: 'Primary', replicationState: null, replicaCapacity: 5, geoRedundantBackup: 'Enabled',
  earliestRestore: new Date('2026-11-30T00:00:00Z'), fqdn: 'pg-prod.postgres.database.azure.com', version: '17', sku: 'Standard_D4ds_v5 (GeneralPurpose)', sourceServerResourceId: null, ...over,
});
const facts = (over: Partial<GeoRestoreFacts> = {}) => ({
  source: server(),
  target: null,
  settings: { subscriptionId: 'sub', resourceGroup: 'rg-prod', drResourceGroup: 'rg-dr', pollSeconds: 15, primaryServer: 'pg-prod', drLocation: 'westus3' },
  now, production: { name: 'aiagent_prod' }, requestId: 'r1',
  ...over,
});

describe('georestore words', () => {
  it.each([
    [['pg-dr1'], { server: 'pg-dr1' }],
    [['pg-dr1', '--at', '2026-12-06T23:00:00+00:00'], { server: 'pg-dr1', at: '2026-12-06T23:00:00+00:00' }],
  ])('%j → %j', (tokens, args) => {
    expect(georestoreArgs(tokens)).toEqual(args);
  });
  it.each([
    [[], /needs the name of the NEW server/],
    [['a', 'b'], /takes one server name/],
    [['PG_Bad'], /not a flexible server name/],
    [['pg-dr1', '--at'], /--at needs a time/],
    [['pg-dr1', '--at', '2026-12-06 23:00'], /not a time with an offset/],
    [['pg-dr1', '--force'], /Unknown option --force/],
  ])('%j refused: %s', (tokens, message) => {
    const error = refusal(() => georestoreArgs(tokens));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toMatch(message);
  });
});

describe('georestore plan', () => {
  it('creates a NEW server in the DR location with the exact request params, showing the facts read', () => {
    const plan = georestorePlan({ server: 'pg-dr1', at: '2026-12-06T23:00:00+00:00' }, facts());
    expect(plan.params).toEqual({
      sourceId: '/subscriptions/sub/resourceGroups/rg-prod/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-prod',
      target: { resourceGroup: 'rg-dr', name: 'pg-dr1', location: 'westus3' },
      pointInTime: '2026-12-06T23:00:00.000Z',
      mode: 'create',
      pollSeconds: 15,
    });
    expect(plan.risk).toBe('side-copy');
    expect(plan.steps.map((s) => s.kind)).toEqual(['geo-restore', 'check-server']);
    expect(plan.facts['Geo-redundant backup']).toMatch(/Enabled; earliest restore point 2026-11-30/);
  });

  it('no --at: now', () => {
    expect((georestorePlan({ server: 'pg-dr1' }, facts()).params as { pointInTime: string }).pointInTime).toBe(now.toISOString());
  });

  it('a server of that name being created already: followed (resume), never created again', () => {
    const plan = georestorePlan({ server: 'pg-dr1' }, facts({ target: server({ name: 'pg-dr1', location: 'westus3', state: 'Provisioning' }) }));
    expect(plan.params).toMatchObject({ mode: 'resume' });
    expect(plan.steps[0]!.title).toMatch(/no second create/);
  });

  it.each([
    ['geo-redundant backup off', facts({ source: server({ geoRedundantBackup: 'Disabled' }) }), {}, /without geo-redundant backup/, /\/recover pitr/],
    ['geo-redundant backup not reported', facts({ source: server({ geoRedundantBackup: null }) }), {}, /not reported/, /\/recover pitr/],
    ['the source is missing', facts({ source: null }), {}, /does not exist/, /RECOVER_AZURE_PRIMARY_SERVER/],
    ['a time before the earliest restore point', facts(), { at: '2026-11-01T00:00:00+00:00' }, /before pg-prod's earliest restore point/, /between 2026-11-30/],
    ['a time in the future', facts(), { at: '2026-12-08T00:00:00+00:00' }, /in the future/, /between the earliest restore point and now/],
    ['the name is taken by a Ready server', facts({ target: server({ name: 'pg-dr1', state: 'Ready' }) }), {}, /already exists/, /another name/],
    ['the DR location is the source\'s own', facts({ settings: { ...facts().settings, drLocation: 'eastus' } }), {}, /source's own region/, /paired region/],
  ])('%s → GEO_RESTORE_REFUSED', (_name, given, extra, message, hint) => {
    const error = refusal(() => georestorePlan({ server: 'pg-dr1', ...extra }, given));
    expect(error.code).toBe('GEO_RESTORE_REFUSED');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/Nothing was created/);
    expect(error.hint).toMatch(hint);
  });
});
