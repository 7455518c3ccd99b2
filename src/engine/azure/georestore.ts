/**
 * /recover georestore: a NEW flexible server in the paired region, created from production's
 * geo-redundant backup (servers.beginCreateOrUpdate, createMode GeoRestore). Gathering reads the
 * source and the target name (read-only); the run never sends a second create: a server of that
 * name that exists is only waited on, and a job whose runner was lost mid-poll is resumed from
 * its poller's recorded state.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { Server } from '@azure/arm-postgresql-flexible';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { step } from '../restore-to-target.js';
import { azureDbSettings, openFlexibleClient, serverResourceId, type AzureDbSettings } from './client.js';
import { runOperation, waitForServer, type OperationStates } from './operation.js';
import { geoRestoreBody, readServer, type ServerFacts } from './server.js';

export const GEORESTORE_STEPS = [
  { kind: 'geo-restore', title: 'Create the server from the geo-redundant backup (GeoRestore), polled to the end', destructive: false },
  { kind: 'check-server', title: 'Check the new server is Ready and read its address', destructive: false },
] as const;

export interface GeoRestoreFacts {
  source: ServerFacts | null;
  /** The server of the name asked for, if one exists already (never created over). */
  target: ServerFacts | null;
  settings: Pick<AzureDbSettings, 'subscriptionId' | 'resourceGroup' | 'drResourceGroup' | 'pollSeconds'> & { primaryServer: string; drLocation: string };
}

export interface GeoRestoreParams {
  sourceId: string;
  target: { resourceGroup: string; name: string; location: string };
  pointInTime: string;
  /** create: send the PUT (the name was free when planned); resume: a server of that name is being created already, only wait for it. */
  mode: 'create' | 'resume';
  pollSeconds: number;
}

export interface GeoRestoreResult {
  server: string;
  id: string;
  location: string;
  state: string;
  fqdn: string | null;
  pointInTime: string;
  /** How the run followed the creation: sent it, resumed an earlier job's poller, or waited on the server. */
  followed: 'created' | 'resumed-poller' | 'waited-on-server';
  seconds: number;
}

export const geoRestoreOperation = (targetId: string) => `georestore:${targetId}`;

/** Read-only: the source server and whether the target name is taken. */
export async function gatherGeoRestore(config: Pick<Config, 'azureDb'>, targetName: string, credential?: TokenCredential): Promise<GeoRestoreFacts> {
  const settings = azureDbSettings(config, '/recover georestore', ['primaryServer', 'drLocation']);
  const client = await openFlexibleClient(settings, credential);
  const source = await readServer(client, settings.resourceGroup, settings.primaryServer!);
  const target = await readServer(client, settings.drResourceGroup, targetName);
  return {
    source,
    target,
    settings: { subscriptionId: settings.subscriptionId, resourceGroup: settings.resourceGroup, drResourceGroup: settings.drResourceGroup, pollSeconds: settings.pollSeconds, primaryServer: settings.primaryServer!, drLocation: settings.drLocation! },
  };
}

const READY = (server: ServerFacts | null): 'done' | 'wait' | string => {
  if (!server) return 'the server is gone: Azure removed it after the creation failed';
  if (server.state === 'Ready') return 'done';
  if (/disabled|dropping|inaccessible/i.test(server.state)) return `the server is ${server.state}`;
  return 'wait';
};

export async function runGeoRestore(ctx: EngineContext, config: Pick<Config, 'azureDb'>, params: GeoRestoreParams, operations: OperationStates | undefined, credential?: TokenCredential): Promise<GeoRestoreResult> {
  const settings = azureDbSettings(config, '/recover georestore', []);
  const client = await openFlexibleClient(settings, credential);
  const { resourceGroup, name, location } = params.target;
  const targetId = serverResourceId(settings.subscriptionId, resourceGroup, name);
  const what = `the geo-restore of ${name} in ${location}`;
  const intervalMs = params.pollSeconds * 1000;
  let finish = step(ctx, 'geo-restore', GEORESTORE_STEPS[0].title);
  const started = Date.now();
  const recorded = (await operations?.find(geoRestoreOperation(targetId))) ?? null;
  const existing = recorded ? null : await readServer(client, resourceGroup, name, ctx.signal);
  let followed: GeoRestoreResult['followed'];
  if (recorded) {
    await runOperation<Server>(ctx, { step: 'geo-restore', operation: geoRestoreOperation(targetId), what, begin: (options) => client.servers.beginCreateOrUpdate(resourceGroup, name, {} as Server, options) }, recorded, intervalMs);
    followed = 'resumed-poller';
  } else if (existing) {
    // Never a second create: a server of that name is only waited on, and only if the plan expected it.
    if (params.mode === 'create') {
      throw new RecoverError('GEO_RESTORE_REFUSED', `A server named ${name} appeared in ${resourceGroup} after the plan was made: nothing was created over it.`, { hint: 'Choose another name, or if it is the geo-restore of an earlier job, run /recover georestore again to follow it.' });
    }
    await waitForServer(ctx, client, { resourceGroup, name, step: 'geo-restore', what }, READY, intervalMs);
    followed = 'waited-on-server';
  } else {
    if (params.mode === 'resume') {
      throw new RecoverError('AZURE_OPERATION_FAILED', `${name} no longer exists: the geo-restore the plan expected to follow failed and Azure removed the server. Nothing was sent.`, { hint: 'Run /recover georestore again for a new plan (it creates the server anew).' });
    }
    const body = geoRestoreBody(location, params.sourceId, new Date(params.pointInTime));
    await runOperation<Server>(ctx, { step: 'geo-restore', operation: geoRestoreOperation(targetId), what, begin: (options) => client.servers.beginCreateOrUpdate(resourceGroup, name, body, options) }, null, intervalMs);
    followed = 'created';
  }
  finish(followed === 'created' ? 'created' : followed === 'resumed-poller' ? 'resumed the earlier job\'s operation' : 'followed the server until Ready');
  finish = step(ctx, 'check-server', GEORESTORE_STEPS[1].title);
  const server = await readServer(client, resourceGroup, name, ctx.signal);
  if (!server || server.state !== 'Ready') {
    throw new RecoverError('AZURE_OPERATION_FAILED', `${what} ended, but the server is ${server ? server.state : 'not there'}.`, { hint: "Read the server's activity log in the Azure portal." });
  }
  finish(server.fqdn ?? server.state);
  return { server: name, id: server.id, location: server.location, state: server.state, fqdn: server.fqdn, pointInTime: params.pointInTime, followed, seconds: (Date.now() - started) / 1000 };
}
