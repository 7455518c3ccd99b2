/**
 * /recover failover on Azure (RECOVER_FAILOVER_PROVIDER=azure) against the 2025-08-01 REST shapes
 * (nock, no network): gathering reads both servers; the PATCH { properties: { replica: {
 * promoteMode, promoteOption } } } is sent once after the approvals are re-checked, polled to
 * Succeeded, and the server checked; an update under way is followed, never patched again.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/log.js';
import { gatherAzureFailover, runAzurePromote, type AzurePromoteParams } from '../../../../src/engine/azure/promote.js';
import { API, accepted, armScope, asyncOperationPath, azureConfig, fakeCredential, operationStatus, recordingContext, serverBody, serverPath } from '../../../support/azure-arm.js';
import { rejection } from '../../../support/refusal.js';

const REPLICA = serverPath('rg-dr', 'pg-prod-replica');
const PRIMARY = serverPath('rg-prod', 'pg-prod');
const OP = asyncOperationPath('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb');
const replicaProps = { replica: { role: 'AsyncReplica', capacity: 0, replicationState: 'Active' }, replicationRole: 'AsyncReplica', sourceServerResourceId: PRIMARY };
const params: AzurePromoteParams = { provider: 'azure', resourceGroup: 'rg-dr', replica: 'pg-prod-replica', promoteMode: 'Switchover', promoteOption: 'Planned', mode: 'promote', switchCommand: false, pollSeconds: 0.01, requestedAt: new Date(Date.now() - 5000).toISOString() };

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => nock.cleanAll());

describe('promoting the Azure read replica (nock, REST spec shapes)', () => {
  it('gathers both servers: role, replication state, capacity, region', async () => {
    armScope().get(REPLICA).query({ 'api-version': API }).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().get(PRIMARY).query({ 'api-version': API }).reply(200, serverBody('rg-prod', 'pg-prod'));
    const facts = await gatherAzureFailover(azureConfig(), fakeCredential());
    expect(facts.azure.replica).toMatchObject({ name: 'pg-prod-replica', role: 'AsyncReplica', replicationState: 'Active', location: 'westus3', state: 'Ready', replicaCapacity: 0 });
    expect(facts.azure.primary).toMatchObject({ name: 'pg-prod', role: 'Primary', location: 'eastus', geoRedundantBackup: 'Enabled' });
    expect(facts.azure.primaryError).toBeNull();
  });

  it('a primary whose region does not answer (503 every try) is a fact of the plan, not a failure', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().get(PRIMARY).query(true).times(4).reply(503, { error: { code: 'ServiceUnavailable', message: 'The region eastus is not available.' } }, { 'Retry-After': '0' });
    const facts = await gatherAzureFailover(azureConfig(), fakeCredential());
    expect(facts.azure.primary).toBeNull();
    expect(facts.azure.primaryError).toMatch(/region cannot take|ServiceUnavailable/);
  });

  it('sends the PATCH once, after the approvals are re-checked, polls to Succeeded, checks the server is no longer a replica', async () => {
    const sent: unknown[] = [];
    const checked: string[] = [];
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA, (body) => (sent.push(body), true)).query({ 'api-version': API }).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'InProgress'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Succeeded'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', {}, 'westus3'));
    const result = await runAzurePromote(recordingContext(), azureConfig(), params, undefined, async (step) => void checked.push(step), fakeCredential());
    expect(sent).toEqual([{ properties: { replica: { promoteMode: 'Switchover', promoteOption: 'Planned' } } }]);
    expect(checked).toEqual(['azure-promote']);
    expect(result).toMatchObject({ provider: 'azure', followed: 'sent', role: 'Primary', state: 'Ready', promoteMode: 'Switchover', promoteOption: 'Planned' });
    expect(result.rtoSeconds).toBeGreaterThanOrEqual(5);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('Forced is sent as Forced (the data-loss acknowledgement), Standalone as Standalone', async () => {
    const sent: unknown[] = [];
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', { ...replicaProps, replica: { ...replicaProps.replica, replicationState: 'Broken' } }, 'westus3'));
    armScope().patch(REPLICA, (body) => (sent.push(body), true)).query(true).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Succeeded'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', { replica: { role: 'None' }, replicationRole: 'None' }, 'westus3'));
    const result = await runAzurePromote(recordingContext(), azureConfig(), { ...params, promoteMode: 'Standalone', promoteOption: 'Forced' }, undefined, async () => undefined, fakeCredential());
    expect(sent).toEqual([{ properties: { replica: { promoteMode: 'Standalone', promoteOption: 'Forced' } } }]);
    expect(result.role).toBe('None');
  });

  it('with a switch hook: the approvals re-checked again, then the hook run with its argv', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA).query(true).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Succeeded'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', {}, 'westus3'));
    const ctx = recordingContext();
    const ran: string[][] = [];
    ctx.exec = { run: async (file: string, args: string[]) => (ran.push([file, ...args]), { stdout: '', stderr: '', exitCode: 0 }) } as never;
    const checked: string[] = [];
    const config = { ...azureConfig(), failover: { ...azureConfig().failover!, switchCommand: ['kubectl', '-n', 'api', 'rollout', 'restart', 'deployment/api'] } };
    const result = await runAzurePromote(ctx, config, { ...params, switchCommand: true }, undefined, async (step) => void checked.push(step), fakeCredential());
    expect(checked).toEqual(['azure-promote', 'switch']);
    expect(ran).toEqual([['kubectl', '-n', 'api', 'rollout', 'restart', 'deployment/api']]);
    expect(result.switched).toBe(true);
  });

  it('after the switch, waits until the application health URL answers (as the self-managed failover does)', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA).query(true).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Succeeded'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', {}, 'westus3'));
    // The application is restarting after the switch: 503, then up.
    nock('https://api.example.net').get('/healthz').reply(503).get('/healthz').reply(200, 'ok');
    const ran: string[] = [];
    const ctx = recordingContext();
    ctx.exec = { run: async (file: string) => (ran.push(file), { stdout: '', stderr: '', exitCode: 0 }) } as never;
    const config = { ...azureConfig(), failover: { ...azureConfig().failover!, switchCommand: ['kubectl', 'rollout', 'restart', 'deployment/api'], healthUrl: 'https://api.example.net/healthz', reconnectTimeoutSeconds: 10 } };
    const result = await runAzurePromote(ctx, config, { ...params, switchCommand: true, reconnect: 'health-url', reconnectTimeoutSeconds: 10 }, undefined, async () => undefined, fakeCredential());
    expect(ran).toEqual(['kubectl']);
    expect(result.reconnect).toEqual({ ok: true, detail: 'https://api.example.net/healthz answered 200' });
    expect(ctx.emitted.filter((e) => e.type === 'step.started').map((e) => (e as { step: string }).step)).toEqual(['azure-promote', 'azure-check', 'switch', 'reconnect']);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('the health URL never answers within the timeout: reconnect not ok, saying what it last got', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA).query(true).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Succeeded'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', {}, 'westus3'));
    nock('https://api.example.net').get('/healthz').times(10).reply(502);
    const config = { ...azureConfig(), failover: { ...azureConfig().failover!, switchCommand: ['kubectl', 'rollout', 'restart', 'deployment/api'], healthUrl: 'https://api.example.net/healthz' } };
    const result = await runAzurePromote(recordingContext(), config, { ...params, switchCommand: true, reconnect: 'health-url', reconnectTimeoutSeconds: 1 }, undefined, async () => undefined, fakeCredential());
    expect(result.switched).toBe(true);
    expect(result.reconnect).toEqual({ ok: false, detail: 'not within 1 s: HTTP 502' });
  });

  it('an approval withdrawn before the step: nothing is sent', async () => {
    const failure = await rejection(
      runAzurePromote(recordingContext(), azureConfig(), params, undefined, async () => {
        throw new (await import('../../../../src/errors.js')).RecoverError('APPROVAL_INVALID', 'rejected');
      }, fakeCredential()),
    );
    expect(failure.code).toBe('APPROVAL_INVALID');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('an update already under way (plan mode resume): followed on the server until it is Ready and promoted, never a PATCH', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', { ...replicaProps, state: 'Updating' }, 'westus3'));
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', { ...replicaProps, state: 'Updating' }, 'westus3'));
    armScope().get(REPLICA).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-replica', {}, 'westus3'));
    const result = await runAzurePromote(recordingContext(), azureConfig(), { ...params, mode: 'resume' }, undefined, async () => undefined, fakeCredential());
    expect(result.followed).toBe('waited-on-server');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('the promotion Failed in Azure: AZURE_OPERATION_FAILED with its code', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA).query(true).reply(202, '', accepted('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'));
    armScope().get(OP).query(true).reply(200, operationStatus('bbbbbbbb', 'Failed', { code: 'ReplicaPromoteFailed', message: 'The replica could not be synchronized with the primary.' }));
    const failure = await rejection(runAzurePromote(recordingContext(), azureConfig(), params, undefined, async () => undefined, fakeCredential()));
    expect(failure.code).toBe('AZURE_OPERATION_FAILED');
    expect(failure.message).toContain('ReplicaPromoteFailed');
  });

  it('409 on the PATCH (another operation on the replica): AZURE_CONFLICT', async () => {
    armScope().get(REPLICA).query(true).reply(200, serverBody('rg-dr', 'pg-prod-replica', replicaProps, 'westus3'));
    armScope().patch(REPLICA).query(true).reply(409, { error: { code: 'OperationInProgress', message: 'An operation is in progress on the server.' } });
    const failure = await rejection(runAzurePromote(recordingContext(), azureConfig(), params, undefined, async () => undefined, fakeCredential()));
    expect(failure.code).toBe('AZURE_CONFLICT');
  });

  it('403 from ARM: AZURE_AUTH saying which role the identity needs', async () => {
    armScope().get(REPLICA).query(true).reply(403, { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization to perform action.' } });
    const failure = await rejection(runAzurePromote(recordingContext(), azureConfig(), params, undefined, async () => undefined, fakeCredential()));
    expect(failure.code).toBe('AZURE_AUTH');
    expect(failure.hint).toMatch(/Contributor/);
    // Logged as the runner logs a failed job, with its cause (the SDK's RestError and its request): the bearer token is not in it.
    const lines: string[] = [];
    createLogger('info', { write: (line: string) => void lines.push(line) }).error({ err: failure }, 'job failed');
    expect(lines.join('')).toContain('AuthorizationFailed');
    expect(lines.join('')).not.toContain('fake-arm-token');
  });
});
