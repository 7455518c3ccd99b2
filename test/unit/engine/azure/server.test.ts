/** The flexible-server builders and readings, as tables: request bodies, server facts, Azure's failures as RecoverErrors. */
import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { azureDbSettings, azureFailure, serverResourceId } from '../../../../src/engine/azure/client.js';
import { geoRestoreBody, isReplica, promoteBody, serverFacts } from '../../../../src/engine/azure/server.js';
import { RecoverError } from '../../../../src/errors.js';

describe('request bodies', () => {
  it.each([
    ['Switchover', 'Planned'],
    ['Switchover', 'Forced'],
    ['Standalone', 'Planned'],
    ['Standalone', 'Forced'],
  ] as const)('promote %s %s → replica.promoteMode / promoteOption and nothing else', (mode, option) => {
    expect(promoteBody(mode, option)).toEqual({ replica: { promoteMode: mode, promoteOption: option } });
  });

  it('geo-restore → location, createMode GeoRestore, the source id and the point in time', () => {
    const at = new Date('2026-12-07T00:30:00Z');
    expect(geoRestoreBody('westus3', '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg', at)).toEqual({
      location: 'westus3',
      createMode: 'GeoRestore',
      sourceServerResourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg',
      pointInTimeUTC: at,
    });
  });

  it('a server resource id', () => {
    expect(serverResourceId('sub', 'rg-a', 'pg-a')).toBe('/subscriptions/sub/resourceGroups/rg-a/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-a');
  });
});

describe('serverFacts', () => {
  it.each([
    ['a primary (ServersGet.json)', { name: 'p', id: 'i', location: 'eastus', state: 'Ready', replica: { role: 'Primary', capacity: 5 }, backup: { geoRedundantBackup: 'Enabled', earliestRestoreDate: new Date('2026-11-30T00:00:00Z') } }, { role: 'Primary', replicationState: null, replicaCapacity: 5, geoRedundantBackup: 'Enabled', earliestRestore: new Date('2026-11-30T00:00:00Z') }],
    ['a broken replica', { name: 'r', location: 'westus3', state: 'Ready', replica: { role: 'AsyncReplica', replicationState: 'Broken' } }, { role: 'AsyncReplica', replicationState: 'Broken', geoRedundantBackup: null, earliestRestore: null }],
    ['only replicationRole', { name: 'r', location: 'westus3', replicationRole: 'GeoAsyncReplica' }, { role: 'GeoAsyncReplica', state: 'Unknown' }],
    ['geo-redundant backup off', { name: 'p', location: 'eastus', backup: { geoRedundantBackup: 'Disabled' } }, { geoRedundantBackup: 'Disabled', role: 'None' }],
  ] as const)('%s', (_name, server, expected) => {
    expect(serverFacts(server as never)).toMatchObject(expected);
  });

  it.each([['AsyncReplica', true], ['GeoAsyncReplica', true], ['Primary', false], ['None', false]] as const)('isReplica(%s) = %s', (role, replica) => {
    expect(isReplica(role)).toBe(replica);
  });
});

describe('azureFailure', () => {
  const rest = (statusCode: number, code: string, message = 'x') => new RestError(message, { statusCode, code });
  it.each([
    ['401', rest(401, 'InvalidAuthenticationToken'), 'AZURE_AUTH'],
    ['403', rest(403, 'AuthorizationFailed'), 'AZURE_AUTH'],
    ['409', rest(409, 'ServerNameAlreadyExists'), 'AZURE_CONFLICT'],
    ['429', rest(429, 'TooManyRequests'), 'AZURE_THROTTLED'],
    ['quota', rest(400, 'QuotaExceeded'), 'AZURE_QUOTA'],
    ['quota in the message', rest(400, 'OperationNotAllowed', 'exceeding approved quota of cores'), 'AZURE_QUOTA'],
    ['region restricted', rest(400, 'LocationIsOfferRestricted'), 'AZURE_REGION_UNAVAILABLE'],
    ['503 without a code', rest(503, ''), 'AZURE_REGION_UNAVAILABLE'],
    ['a failed operation (core-lro text)', new Error('The long-running operation has failed. InternalServerError. boom'), 'AZURE_OPERATION_FAILED'],
    ['a failed operation over quota (core-lro text)', new Error('The long-running operation has failed. QuotaExceeded. no cores'), 'AZURE_QUOTA'],
    ['DefaultAzureCredential with nothing configured', Object.assign(new Error('no credential'), { name: 'CredentialUnavailableError' }), 'AZURE_AUTH'],
  ] as const)('%s → %s, with a hint', (_name, error, code) => {
    const failure = azureFailure(error, 'the test');
    expect(failure.code).toBe(code);
    expect(failure.hint).toBeTruthy();
  });

  it('a RecoverError passes through', () => {
    const own = new RecoverError('CANCELLED', 'stop');
    expect(azureFailure(own, 'x')).toBe(own);
  });
});

describe('azureDbSettings', () => {
  it('names every missing variable', () => {
    expect(() => azureDbSettings({ azureDb: { credential: 'default', armEndpoint: 'https://management.azure.com', pollSeconds: 15 } }, '/recover georestore', ['primaryServer', 'drLocation'])).toThrow(
      /RECOVER_AZURE_SUBSCRIPTION_ID, RECOVER_AZURE_RESOURCE_GROUP, RECOVER_AZURE_PRIMARY_SERVER, RECOVER_AZURE_DR_LOCATION/,
    );
  });
  it('the DR resource group defaults to the resource group', () => {
    expect(azureDbSettings({ azureDb: { subscriptionId: 's', resourceGroup: 'rg', credential: 'default', armEndpoint: 'https://management.azure.com', pollSeconds: 15 } }, 'x', []).drResourceGroup).toBe('rg');
  });
});
