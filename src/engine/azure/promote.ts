/**
 * /recover failover with RECOVER_FAILOVER_PROVIDER=azure: promote the flexible server's read
 * replica (RECOVER_AZURE_REPLICA_SERVER) with servers.beginUpdate { replica: { promoteMode,
 * promoteOption } }. Switchover swaps the roles while the primary answers (never two primaries);
 * Standalone detaches the replica when the primary is gone. Planned waits until the replica is in
 * sync; Forced does not (the data-loss acknowledgement). Gathering reads both servers
 * (read-only); the run sends the PATCH once, resumes an earlier job's poller, or follows an update
 * already under way.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { Server } from '@azure/arm-postgresql-flexible';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { failoverConfig, standbyConnection } from '../failover/facts.js';
import { reconnected, switchApplication } from '../failover/steps.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { azureDbSettings, azureFailure, openFlexibleClient, serverResourceId } from './client.js';
import { runOperation, waitForServer, type OperationStates } from './operation.js';
import { isReplica, promoteBody, readServer, type PromoteMode, type PromoteOption, type ServerFacts } from './server.js';

export const AZURE_PROMOTE_STEPS = [
  { kind: 'azure-promote', title: 'Promote the read replica (servers.beginUpdate, replica.promoteMode/promoteOption), polled to the end', destructive: true },
  { kind: 'azure-check', title: 'Check the promoted server is Ready and no longer a replica', destructive: false },
] as const;

export interface AzureFailoverFacts {
  azure: {
    replica: ServerFacts | null;
    primary: ServerFacts | null;
    /** Why the primary could not be read (its region is down, ARM failed), when it could not. */
    primaryError: string | null;
    replicaResourceGroup: string;
    replicaServer: string;
    primaryServer: string | null;
    pollSeconds: number;
    switchArgv: string[] | null;
    /** After the switch, how the application's return is checked: its health URL, or a client connection on the promoted server (RECOVER_STANDBY_URL); null: not checked. */
    reconnect: 'health-url' | 'connections' | null;
    reconnectTimeoutSeconds: number;
  };
}

export interface AzurePromoteParams {
  provider: 'azure';
  resourceGroup: string;
  replica: string;
  promoteMode: PromoteMode;
  promoteOption: PromoteOption;
  /** promote: send the PATCH; resume: an update of the replica is under way already, follow it. */
  mode: 'promote' | 'resume';
  switchCommand: boolean;
  /** Absent in plans made before the check existed: not checked. */
  reconnect?: 'health-url' | 'connections' | null;
  reconnectTimeoutSeconds?: number;
  pollSeconds: number;
  requestedAt: string;
}

export interface AzurePromoteResult {
  provider: 'azure';
  replica: string;
  promoteMode: PromoteMode;
  promoteOption: PromoteOption;
  followed: 'sent' | 'resumed-poller' | 'waited-on-server';
  promotedAt: string;
  rtoSeconds: number;
  role: string;
  state: string;
  fqdn: string | null;
  switched: boolean;
  reconnect: { ok: boolean; detail: string } | null;
}

export const promoteOperation = (replicaId: string) => `promote:${replicaId}`;

export async function gatherAzureFailover(config: Pick<Config, 'azureDb' | 'failover'>, credential?: TokenCredential): Promise<AzureFailoverFacts> {
  const settings = azureDbSettings(config, '/recover failover', ['replicaServer']);
  const client = await openFlexibleClient(settings, credential);
  const replica = await readServer(client, settings.drResourceGroup, settings.replicaServer!);
  let primary: ServerFacts | null = null;
  let primaryError: string | null = null;
  if (settings.primaryServer) {
    // The primary's region may be the one lost: not reading it is a fact of the plan.
    try {
      primary = await readServer(client, settings.resourceGroup, settings.primaryServer);
      if (!primary) primaryError = 'it does not exist (404)';
    } catch (error) {
      primaryError = azureFailure(error, `reading ${settings.primaryServer}`).message;
    }
  } else {
    primaryError = 'RECOVER_AZURE_PRIMARY_SERVER is not set, so it cannot be checked';
  }
  return {
    azure: {
      replica,
      primary,
      primaryError,
      replicaResourceGroup: settings.drResourceGroup,
      replicaServer: settings.replicaServer!,
      primaryServer: settings.primaryServer ?? null,
      pollSeconds: settings.pollSeconds,
      switchArgv: config.failover?.switchCommand ?? null,
      reconnect: reconnectCheck(config),
      reconnectTimeoutSeconds: failoverConfig(config).reconnectTimeoutSeconds,
    },
  };
}

/** As the self-managed failover: the health URL if configured, else a client connection on the promoted server when RECOVER_STANDBY_URL reaches it, and only with a switch. */
export function reconnectCheck(config: Pick<Config, 'failover'>): AzureFailoverFacts['azure']['reconnect'] {
  const settings = failoverConfig(config);
  if (!settings.switchCommand) return null;
  return settings.healthUrl ? 'health-url' : settings.standbyUrl ? 'connections' : null;
}

const promotedAndReady = (server: ServerFacts | null): 'done' | 'wait' | string => {
  if (!server) return 'the replica server is gone';
  if (server.state !== 'Ready') return /disabled|dropping|inaccessible/i.test(server.state) ? `the server is ${server.state}` : 'wait';
  return isReplica(server.role) ? 'the update ended and the server is still a replica (the promotion did not happen)' : 'done';
};

export async function runAzurePromote(
  ctx: EngineContext,
  config: Pick<Config, 'azureDb' | 'failover'>,
  params: AzurePromoteParams,
  operations: OperationStates | undefined,
  beforeDestructiveStep: (step: string) => Promise<void>,
  credential?: TokenCredential,
): Promise<AzurePromoteResult> {
  const settings = azureDbSettings(config, '/recover failover', []);
  const client = await openFlexibleClient(settings, credential);
  const { resourceGroup, replica } = params;
  const replicaId = serverResourceId(settings.subscriptionId, resourceGroup, replica);
  const what = `the promotion of ${replica} (${params.promoteMode}, ${params.promoteOption})`;
  const intervalMs = params.pollSeconds * 1000;
  await beforeDestructiveStep('azure-promote');
  let finish = step(ctx, 'azure-promote', AZURE_PROMOTE_STEPS[0].title);
  const recorded = (await operations?.find(promoteOperation(replicaId))) ?? null;
  let followed: AzurePromoteResult['followed'];
  if (recorded) {
    await runOperation<Server>(ctx, { step: 'azure-promote', operation: promoteOperation(replicaId), what, begin: (options) => client.servers.beginUpdate(resourceGroup, replica, {}, options) }, recorded, intervalMs);
    followed = 'resumed-poller';
  } else {
    const now = await readServer(client, resourceGroup, replica, ctx.signal);
    if (!now) throw new RecoverError('FAILOVER_REFUSED', `The replica ${replica} no longer exists. Nothing was sent.`, { hint: 'Check RECOVER_AZURE_REPLICA_SERVER; with no replica left, /recover georestore or /recover pitr in the other region.' });
    if (params.mode === 'resume') {
      // Never a second PATCH over an update under way: follow it.
      await waitForServer(ctx, client, { resourceGroup, name: replica, step: 'azure-promote', what }, promotedAndReady, intervalMs);
      followed = 'waited-on-server';
    } else {
      if (now.state !== 'Ready') throw new RecoverError('FAILOVER_REFUSED', `${replica} is ${now.state} since the plan was made: an operation runs on it. Nothing was sent.`, { hint: 'Run /recover failover again: the new plan follows what runs on it instead of sending a second promotion.' });
      if (!isReplica(now.role)) throw new RecoverError('FAILOVER_REFUSED', `${replica} is no longer a replica (role ${now.role}): someone promoted it since the plan. Nothing was sent.`, { hint: 'Switch the application to it, or plan again.' });
      await runOperation<Server>(ctx, { step: 'azure-promote', operation: promoteOperation(replicaId), what, begin: (options) => client.servers.beginUpdate(resourceGroup, replica, promoteBody(params.promoteMode, params.promoteOption), options) }, null, intervalMs);
      followed = 'sent';
    }
  }
  const promotedAt = new Date();
  finish(followed === 'sent' ? 'promoted' : followed === 'resumed-poller' ? "promoted (the earlier job's operation, resumed)" : 'promoted (followed on the server)');
  finish = step(ctx, 'azure-check', AZURE_PROMOTE_STEPS[1].title);
  const after = await readServer(client, resourceGroup, replica, ctx.signal);
  const verdict = promotedAndReady(after);
  if (verdict !== 'done') throw new RecoverError('AZURE_OPERATION_FAILED', `${what} ended, but ${verdict === 'wait' ? `the server is ${after!.state}` : verdict}.`, { hint: "Read the server's activity log in the Azure portal before running /recover failover again." });
  finish(`${after!.role}, ${after!.state}`);
  let switched = false;
  // Connections count only when opened after the switch, by the promoted server's clock.
  const connection: TargetConnection | null = params.reconnect === 'connections' ? standbyConnection(config) : null;
  const switchedAt: Date = connection ? await withTargetClient(connection, async (c) => (await c.query('SELECT now() AS at')).rows[0].at, ctx.log) : new Date();
  if (params.switchCommand && config.failover?.switchCommand) {
    await beforeDestructiveStep('switch');
    finish = step(ctx, 'switch', 'Switch the application to the new primary (RECOVER_FAILOVER_SWITCH_COMMAND)');
    await switchApplication(ctx, config);
    switched = true;
    finish();
  }
  let reconnect: AzurePromoteResult['reconnect'] = null;
  if (switched && params.reconnect) {
    finish = step(ctx, 'reconnect', 'Wait until the application reconnects');
    // With a health URL the connection is not used: the promoted server's address stands for it.
    reconnect = await reconnected(ctx, config, connection ?? { host: after!.fqdn ?? replica }, params.reconnectTimeoutSeconds ?? failoverConfig(config).reconnectTimeoutSeconds, switchedAt);
    finish(reconnect.detail);
  }
  return {
    provider: 'azure',
    replica,
    promoteMode: params.promoteMode,
    promoteOption: params.promoteOption,
    followed,
    promotedAt: promotedAt.toISOString(),
    rtoSeconds: (promotedAt.getTime() - new Date(params.requestedAt).getTime()) / 1000,
    role: after!.role,
    state: after!.state,
    fqdn: after!.fqdn,
    switched,
    reconnect,
  };
}
