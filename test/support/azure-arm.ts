/**
 * Azure Resource Manager stand-ins for the flexible-server tests: a fake TokenCredential, the
 * settings, an engine context that records its events, and the REST shapes of the 2025-08-01
 * spec's examples (ServersGet, ServersCreateGeoRestore…, ServersPromoteReplica…: 202 with
 * Azure-AsyncOperation and Location, then the async operation's status document).
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import nock from 'nock';
import type { Config } from '../../src/config.js';
import type { EngineContext } from '../../src/engine/context.js';
import { createLogger } from '../../src/log.js';
import type { EngineEvent } from '../../src/types.js';

export const ARM = 'https://management.azure.com';
export const SUBSCRIPTION = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
export const API = '2025-08-01';
export const serverPath = (resourceGroup: string, name: string) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${name}`;
export const asyncOperationPath = (id: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.DBforPostgreSQL/locations/westus3/azureAsyncOperation/${id}`;
export const operationResultPath = (id: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.DBforPostgreSQL/locations/westus3/operationResults/${id}`;

/** A credential that hands out a fixed token and counts its calls; `fail` makes it throw as DefaultAzureCredential does when nothing is configured. */
export function fakeCredential(fail = false): TokenCredential & { calls: number } {
  const credential = {
    calls: 0,
    async getToken(): Promise<AccessToken> {
      credential.calls += 1;
      if (fail) throw Object.assign(new Error('DefaultAzureCredential failed to retrieve a token from the included credentials.'), { name: 'CredentialUnavailableError' });
      return { token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return credential;
}

export function azureConfig(overrides: Partial<NonNullable<Config['azureDb']>> = {}): Pick<Config, 'azureDb' | 'failover'> {
  return {
    azureDb: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-prod', drResourceGroup: 'rg-dr', primaryServer: 'pg-prod', replicaServer: 'pg-prod-replica', drLocation: 'westus3', credential: 'default', armEndpoint: ARM, pollSeconds: 1, ...overrides },
    failover: { provider: 'azure', maxLagSeconds: 60, catchUpTimeoutSeconds: 600, reconnectTimeoutSeconds: 300 },
  };
}

export interface RecordingContext extends EngineContext {
  emitted: EngineEvent[];
  abort: AbortController;
}

/** An engine context whose events are kept; `onEvent` may act on one (abort mid-poll, as a killed runner stops). */
export function recordingContext(onEvent?: (event: EngineEvent, ctx: RecordingContext) => void): RecordingContext {
  const abort = new AbortController();
  const ctx: RecordingContext = {
    emitted: [],
    abort,
    log: createLogger('silent'),
    exec: { run: async () => ({ stdout: '', stderr: '', exitCode: 0 }) } as unknown as EngineContext['exec'],
    storage: {} as EngineContext['storage'],
    events: {
      emit: (event) => {
        ctx.emitted.push(event);
        onEvent?.(event, ctx);
      },
    },
    signal: abort.signal,
    clock: { now: () => new Date() },
  };
  return ctx;
}

/** servers.get's body (ServersGet.json's shape), with what a test changes. */
export function serverBody(resourceGroup: string, name: string, properties: Record<string, unknown> = {}, location = 'eastus') {
  return {
    sku: { name: 'Standard_D4ds_v5', tier: 'GeneralPurpose' },
    properties: {
      replica: { role: 'Primary', capacity: 5 },
      fullyQualifiedDomainName: `${name}.postgres.database.azure.com`,
      version: '17',
      state: 'Ready',
      backup: { backupRetentionDays: 7, geoRedundantBackup: 'Enabled', earliestRestoreDate: '2026-11-30T00:00:00.000000Z' },
      replicationRole: 'Primary',
      replicaCapacity: 5,
      ...properties,
    },
    location,
    id: serverPath(resourceGroup, name),
    name,
    type: 'Microsoft.DBforPostgreSQL/flexibleServers',
  };
}

/** The 202 of a PUT or PATCH, as the spec's examples answer it. */
export function accepted(operationId: string, retryAfter?: number) {
  return {
    'Azure-AsyncOperation': `${ARM}${asyncOperationPath(operationId)}?api-version=${API}`,
    Location: `${ARM}${operationResultPath(operationId)}?api-version=${API}`,
    ...(retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {}),
  };
}

/** The async operation's status document. */
export function operationStatus(operationId: string, status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled', error?: { code: string; message: string }) {
  return { name: operationId, status, startTime: '2026-12-07T01:00:00Z', ...(error ? { error } : {}) };
}

export function armScope() {
  return nock(ARM);
}
