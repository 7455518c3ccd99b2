/**
 * /recover georestore against the REST shapes of Microsoft.DBforPostgreSQL 2025-08-01 (nock, no
 * network): the PUT's body on the wire, 202 with Azure-AsyncOperation polled InProgress →
 * Succeeded, Failed with its error body, 409, 429 with Retry-After, a quota error, a credential
 * that cannot get a token, and a runner lost mid-poll whose successor resumes polling from the
 * recorded poller state: one PUT ever.
 */
import nock from 'nock';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { geoRestoreOperation, runGeoRestore, type GeoRestoreParams } from '../../../../src/engine/azure/georestore.js';
import type { OperationStates } from '../../../../src/engine/azure/operation.js';
import { API, accepted, armScope, asyncOperationPath, azureConfig, fakeCredential, operationStatus, recordingContext, serverBody, serverPath } from '../../../support/azure-arm.js';
import { rejection } from '../../../support/refusal.js';

const target = { resourceGroup: 'rg-dr', name: 'pg-prod-dr1', location: 'westus3' };
const params: GeoRestoreParams = { sourceId: serverPath('rg-prod', 'pg-prod'), target, pointInTime: '2026-12-07T00:30:00.000Z', mode: 'create', pollSeconds: 0.01 };
const TARGET = serverPath('rg-dr', 'pg-prod-dr1');
const OP = asyncOperationPath('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa');
const none: OperationStates = { find: async () => null };

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => nock.cleanAll());

/** The PUT, once, with the spec's body shape; what it sent is kept. */
function expectPut(sent: unknown[], reply: (scope: nock.Interceptor) => nock.Scope) {
  return reply(
    armScope()
      .put(TARGET, (body) => (sent.push(body), true))
      .query({ 'api-version': API }),
  );
}

describe('georestore on Azure (nock, REST spec shapes)', () => {
  it('sends one PUT { location, properties: { createMode: GeoRestore, sourceServerResourceId, pointInTimeUTC } }, polls InProgress → Succeeded with progress, and reads the new server', async () => {
    const sent: unknown[] = [];
    const scope = armScope()
      .get(TARGET).query({ 'api-version': API }).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    expectPut(sent, (i) => i.reply(202, '', accepted('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')));
    armScope().get(OP).query(true).times(2).reply(200, operationStatus('aaaaaaaa', 'InProgress'));
    armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'Succeeded'));
    armScope().get(TARGET).query({ 'api-version': API }).times(2).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    const ctx = recordingContext();
    const result = await runGeoRestore(ctx, azureConfig(), params, none, fakeCredential());
    expect(sent).toEqual([{ location: 'westus3', properties: { createMode: 'GeoRestore', sourceServerResourceId: serverPath('rg-prod', 'pg-prod'), pointInTimeUTC: '2026-12-07T00:30:00.000Z' } }]);
    expect(result).toMatchObject({ server: 'pg-prod-dr1', state: 'Ready', followed: 'created', fqdn: 'pg-prod-dr1.postgres.database.azure.com', location: 'westus3' });
    const progress = ctx.emitted.filter((e) => e.type === 'step.progress' && e.step === 'geo-restore').map((e) => (e as { detail?: string }).detail);
    expect(progress.filter((d) => /running, \d poll/.test(d ?? '')).length).toBeGreaterThanOrEqual(2);
    const states = ctx.emitted.filter((e) => e.type === 'step.state');
    expect(states.length).toBeGreaterThan(0);
    expect(states[0]).toMatchObject({ step: 'geo-restore', operation: geoRestoreOperation(TARGET) });
    expect(JSON.parse((states[0] as { resumeFrom: string }).resumeFrom).state.config.operationLocation).toContain(OP);
    expect(ctx.emitted.filter((e) => e.type === 'step.finished').map((e) => (e as { step: string }).step)).toEqual(['geo-restore', 'check-server']);
    expect(scope.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('Failed with an error body: AZURE_OPERATION_FAILED with Azure\'s code and message; a quota code: AZURE_QUOTA', async () => {
    for (const [error, code] of [
      [{ code: 'InternalServerError', message: 'An unexpected error occured while processing the request.' }, 'AZURE_OPERATION_FAILED'],
      [{ code: 'QuotaExceeded', message: 'Operation results in exceeding quota limits of Core. Maximum allowed: 10' }, 'AZURE_QUOTA'],
      [{ code: 'LocationIsOfferRestricted', message: 'Subscriptions are restricted from provisioning in location westus3.' }, 'AZURE_REGION_UNAVAILABLE'],
    ] as const) {
      armScope().get(TARGET).query(true).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
      expectPut([], (i) => i.reply(202, '', accepted('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')));
      armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'Failed', error));
      const failure = await rejection(runGeoRestore(recordingContext(), azureConfig(), params, none, fakeCredential()));
      expect(failure.code).toBe(code);
      expect(failure.message).toContain(error.code);
      expect(failure.hint).toBeTruthy();
      nock.cleanAll();
    }
  });

  it('Canceled in Azure: AZURE_OPERATION_FAILED', async () => {
    armScope().get(TARGET).query(true).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    expectPut([], (i) => i.reply(202, '', accepted('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')));
    armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'Canceled'));
    const failure = await rejection(runGeoRestore(recordingContext(), azureConfig(), params, none, fakeCredential()));
    expect(failure.code).toBe('AZURE_OPERATION_FAILED');
    expect(failure.message).toMatch(/canceled/i);
  });

  it('409 Conflict on the PUT: AZURE_CONFLICT (exit 3), nothing polled', async () => {
    armScope().get(TARGET).query(true).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    expectPut([], (i) => i.reply(409, { error: { code: 'ServerNameAlreadyExists', message: 'Specified server name is already used.' } }));
    const failure = await rejection(runGeoRestore(recordingContext(), azureConfig(), params, none, fakeCredential()));
    expect(failure.code).toBe('AZURE_CONFLICT');
    expect(failure.message).toContain('ServerNameAlreadyExists');
  });

  it('429 with Retry-After: the SDK waits that long and sends the PUT again; the operation is then polled to the end', async () => {
    const sent: unknown[] = [];
    armScope().get(TARGET).query(true).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    expectPut(sent, (i) => i.reply(429, { error: { code: 'TooManyRequests', message: 'throttled' } }, { 'Retry-After': '1' }));
    expectPut(sent, (i) => i.reply(202, '', accepted('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')));
    armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'Succeeded'));
    armScope().get(TARGET).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    const started = Date.now();
    const result = await runGeoRestore(recordingContext(), azureConfig(), params, none, fakeCredential());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sent).toHaveLength(2); // the throttled one was refused by Azure, not accepted
    expect(result.followed).toBe('created');
  });

  it('429 past the retries: AZURE_THROTTLED, saying to run it again', async () => {
    armScope().get(TARGET).query(true).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    armScope().get(TARGET).query(true).times(4).reply(429, { error: { code: 'TooManyRequests', message: 'throttled' } }, { 'Retry-After': '0' });
    const failure = await rejection(runGeoRestore(recordingContext(), azureConfig(), { ...params, mode: 'resume' }, none, fakeCredential()));
    expect(failure.code).toBe('AZURE_THROTTLED');
  });

  it('a credential that cannot get a token: AZURE_AUTH naming RECOVER_AZURE_CREDENTIAL, no request sent, the token never in the text', async () => {
    const failure = await rejection(runGeoRestore(recordingContext(), azureConfig(), params, none, fakeCredential(true)));
    expect(failure.code).toBe('AZURE_AUTH');
    expect(failure.forChannel()).toContain('RECOVER_AZURE_CREDENTIAL');
    expect(failure.forChannel()).not.toContain('fake-arm-token');
  });

  it('a server of that name already being created and no recorded state: waits on the server, never a PUT', async () => {
    armScope().get(TARGET).query(true).reply(200, serverBody('rg-dr', 'pg-prod-dr1', { state: 'Provisioning' }, 'westus3'));
    armScope().get(TARGET).query(true).reply(200, serverBody('rg-dr', 'pg-prod-dr1', { state: 'Provisioning' }, 'westus3'));
    armScope().get(TARGET).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    const result = await runGeoRestore(recordingContext(), azureConfig(), { ...params, mode: 'resume' }, none, fakeCredential());
    expect(result.followed).toBe('waited-on-server');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a runner lost mid-poll: the next job resumes polling from the recorded poller state; only one PUT is ever sent', async () => {
    const sent: unknown[] = [];
    armScope().get(TARGET).query(true).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    expectPut(sent, (i) => i.reply(202, '', accepted('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')));
    armScope().get(OP).query(true).times(2).reply(200, operationStatus('aaaaaaaa', 'InProgress'));
    // The first runner stops after its second poll (as a killed process stops polling); what it recorded is what the control DB keeps.
    let polls = 0;
    const first = recordingContext((event, ctx) => {
      if (event.type === 'step.progress' && /running, [1-9] poll/.test(event.detail ?? '') && ++polls === 1) ctx.abort.abort();
    });
    const stopped = await rejection(runGeoRestore(first, azureConfig(), params, none, fakeCredential()));
    expect(stopped.code).toBe('CANCELLED');
    const recorded = first.emitted.filter((e) => e.type === 'step.state').at(-1) as { operation: string; resumeFrom: string };
    expect(recorded.operation).toBe(geoRestoreOperation(TARGET));

    // The next job: its store finds the state; the server is not even read before polling resumes.
    armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'InProgress'));
    armScope().get(OP).query(true).reply(200, operationStatus('aaaaaaaa', 'Succeeded'));
    armScope().get(TARGET).query(true).times(2).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    const found: string[] = [];
    const store: OperationStates = { find: async (operation) => (found.push(operation), operation === recorded.operation ? recorded.resumeFrom : null) };
    const second = recordingContext();
    const result = await runGeoRestore(second, azureConfig(), { ...params, mode: 'resume' }, store, fakeCredential());
    expect(result.followed).toBe('resumed-poller');
    expect(found).toEqual([geoRestoreOperation(TARGET)]);
    expect(sent).toHaveLength(1);
    expect(nock.pendingMocks()).toEqual([]);
    expect(second.emitted.some((e) => e.type === 'step.progress' && /resumed/.test(e.detail ?? ''))).toBe(true);
  });
});

