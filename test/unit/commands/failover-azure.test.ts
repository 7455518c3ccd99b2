/** `/recover failover` with RECOVER_FAILOVER_PROVIDER=azure: the plan from the servers' facts (pure), as a table. */
import { describe, expect, it } from 'vitest';
import { azureFailoverPlan } from '../../../commands/failover/azure-plan.js';
import { failover } from '../../../commands/failover/index.js';
import type { AzureFailoverFacts } from '../../../src/engine/azure/promote.js';
import type { ServerFacts } from '../../../src/engine/azure/server.js';
import { refusal } from '../../support/refusal.js';

const now = new Date('2026-12-07T01:00:00Z');
const server = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  name: 'pg-prod', id: '/x', location: 'eastus', state: 'Ready', role: 'Primary', replicationState: null, replicaCapacity: 5, geoRedundantBackup: 'Enabled',
  earliestRestore: null, fqdn: null, version: '17', sku: null, sourceServerResourceId: null, ...over,
});
const replica = (over: Partial<ServerFacts> = {}) => server({ name: 'pg-prod-replica', location: 'westus3', role: 'AsyncReplica', replicationState: 'Active', replicaCapacity: 0, ...over });
const facts = (over: Partial<AzureFailoverFacts['azure']> = {}) => ({
  azure: { replica: replica(), primary: server(), primaryError: null, replicaResourceGroup: 'rg-dr', replicaServer: 'pg-prod-replica', primaryServer: 'pg-prod', pollSeconds: 15, switchArgv: null, reconnect: null, reconnectTimeoutSeconds: 300, ...over } as AzureFailoverFacts['azure'],
  now, production: { name: 'aiagent_prod' }, requestId: 'r1',
});
const args = (over = {}) => ({ primaryUnreachable: false, ...over });

describe('Azure failover plan', () => {
  it.each([
    ['primary Ready: Switchover, Planned', facts(), args(), { promoteMode: 'Switchover', promoteOption: 'Planned', mode: 'promote' }],
    ['primary Ready, --accept-data-loss: Switchover, Forced', facts(), args({ acceptDataLossSeconds: 300 }), { promoteMode: 'Switchover', promoteOption: 'Forced' }],
    ['primary unreadable, acknowledged: Standalone, Planned', facts({ primary: null, primaryError: 'region down' }), args({ primaryUnreachable: true }), { promoteMode: 'Standalone', promoteOption: 'Planned' }],
    ['primary Stopped, acknowledged, Forced', facts({ primary: server({ state: 'Stopped' }) }), args({ primaryUnreachable: true, acceptDataLossSeconds: 60 }), { promoteMode: 'Standalone', promoteOption: 'Forced' }],
    ['replica Broken, Forced accepted', facts({ replica: replica({ replicationState: 'Broken' }) }), args({ acceptDataLossSeconds: 600 }), { promoteOption: 'Forced' }],
    ['replica Catchup: Planned waits for sync', facts({ replica: replica({ replicationState: 'Catchup' }) }), args(), { promoteOption: 'Planned' }],
    ['replica Updating (an earlier promotion under way): resume', facts({ replica: replica({ state: 'Updating' }) }), args(), { mode: 'resume' }],
  ] as const)('%s', (_name, given, words, params) => {
    const plan = azureFailoverPlan(words, given);
    expect(plan.params).toMatchObject({ provider: 'azure', resourceGroup: 'rg-dr', replica: 'pg-prod-replica', ...params });
    expect(plan.risk).toBe('destructive');
    expect(plan.steps.map((s) => s.kind)).toEqual(['azure-promote', 'azure-check']);
    expect(plan.facts['Read replica']).toMatch(/pg-prod-replica \(westus3\): \w+, role AsyncReplica/);
  });

  it('shows the lag Azure does not give, and with a switch hook adds the switch step', () => {
    const plan = azureFailoverPlan(args(), facts({ switchArgv: ['kubectl', 'rollout', 'restart', 'deployment/api'] }));
    expect(plan.facts.Lag).toMatch(/physical_replication_delay_in_seconds/);
    expect(plan.steps.map((s) => s.kind)).toEqual(['azure-promote', 'azure-check', 'switch']);
    expect(plan.facts['Data loss']).toMatch(/none: Planned/);
    expect(plan.facts['Application reconnect']).toMatch(/not checked: set RECOVER_FAILOVER_HEALTH_URL, or RECOVER_STANDBY_URL/);
  });

  it.each([
    ['health-url', /Wait until RECOVER_FAILOVER_HEALTH_URL answers \(at most 300 s\)/],
    ['connections', /Wait until a client connects to pg-prod-replica \(RECOVER_STANDBY_URL; at most 300 s\)/],
  ] as const)('after the switch, the application reconnect is checked (%s), as in the self-managed failover', (reconnect, title) => {
    const plan = azureFailoverPlan(args(), facts({ switchArgv: ['kubectl', 'rollout', 'restart', 'deployment/api'], reconnect }));
    expect(plan.steps.map((s) => s.kind)).toEqual(['azure-promote', 'azure-check', 'switch', 'reconnect']);
    expect(plan.steps.at(-1)!.title).toMatch(title);
    expect(plan.facts['Application reconnect']).toMatch(title);
    expect(plan.params).toMatchObject({ reconnect, reconnectTimeoutSeconds: 300 });
    expect(failover.paramsSchema!.safeParse(plan.params).success).toBe(true);
    // Without a switch there is nothing to reconnect after.
    expect(azureFailoverPlan(args(), facts({ reconnect })).steps.map((s) => s.kind)).toEqual(['azure-promote', 'azure-check']);
  });

  it('a reconnect that did not happen is the verdict (COMMAND_FAILED), and the summary says so', () => {
    const result = { provider: 'azure', replica: 'pg-prod-replica', promoteMode: 'Switchover', promoteOption: 'Planned', followed: 'sent', promotedAt: now.toISOString(), rtoSeconds: 95, role: 'Primary', state: 'Ready', fqdn: null, switched: true, reconnect: { ok: false, detail: 'not within 300 s: HTTP 503' } };
    expect(failover.verdict!(result as never, {} as never)?.code).toBe('COMMAND_FAILED');
    expect(failover.format!(result as never)).toContain('Application did NOT reconnect: not within 300 s: HTTP 503.');
    expect(failover.verdict!({ ...result, reconnect: { ok: true, detail: 'https://api/healthz answered 200' } } as never, {} as never)).toBeNull();
  });

  it.each([
    ['no replica', facts({ replica: null }), args(), /does not exist/, /georestore|pitr/],
    ['not a replica any more', facts({ replica: replica({ role: 'Primary', replicationState: null }) }), args(), /not a read replica/, /switch the application/],
    ['replica Broken without --accept-data-loss', facts({ replica: replica({ replicationState: 'Broken' }) }), args(), /Broken/, /--accept-data-loss/],
    ['replica still provisioning its replication', facts({ replica: replica({ replicationState: 'Provisioning' }) }), args(), /not a usable copy yet/, /Active/],
    ['replica Stopped', facts({ replica: replica({ state: 'Stopped' }) }), args(), /Stopped, not Ready/, /Start it/],
    ['primary unreadable, not acknowledged', facts({ primary: null, primaryError: 'region down' }), args(), /not Ready \(region down\)/, /--primary-unreachable/],
  ] as const)('%s → FAILOVER_REFUSED', (_name, given, words, message, hint) => {
    const error = refusal(() => azureFailoverPlan(words, given));
    expect(error.code).toBe('FAILOVER_REFUSED');
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });

  it('the failover command plans with the Azure plan for Azure facts, and its params schema takes both providers', () => {
    const plan = failover.plan!(args(), facts() as never);
    expect(plan.params).toMatchObject({ provider: 'azure' });
    expect(failover.paramsSchema!.safeParse(plan.params).success).toBe(true);
    expect(failover.steps!.filter((s) => s.kind === 'switch')).toHaveLength(1);
    expect(failover.format!({ provider: 'azure', replica: 'pg-prod-replica', promoteMode: 'Switchover', promoteOption: 'Planned', followed: 'sent', promotedAt: now.toISOString(), rtoSeconds: 95, role: 'Primary', state: 'Ready', fqdn: 'x.postgres.database.azure.com', switched: false } as never)).toMatch(/Promoted the Azure read replica pg-prod-replica \(Switchover, Planned\).*95 s after the request/);
  });
});
