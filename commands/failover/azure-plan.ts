/**
 * The plan of `/recover failover` with RECOVER_FAILOVER_PROVIDER=azure (pure): the facts read of
 * the read replica and the primary, the promotion chosen from them, and the refusals
 * (FAILOVER_REFUSED, exit 3, nothing sent). Switchover while the primary is Ready (roles swap:
 * never two primaries); Standalone when it is not, acknowledged with --primary-unreachable.
 * Planned by default; Forced only with --accept-data-loss (its own confirmation and approval).
 */
import { z } from 'zod';
import { AZURE_PROMOTE_STEPS, type AzureFailoverFacts, type AzurePromoteParams } from '../../src/engine/azure/promote.js';
import { isReplica, type ServerFacts } from '../../src/engine/azure/server.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts, type StepDeclaration } from '../types.js';
import type { FailoverArgs } from './args.js';

export const azurePromoteParamsSchema = z.object({
  provider: z.literal('azure'),
  resourceGroup: z.string().min(1),
  replica: z.string().min(1),
  promoteMode: z.enum(['Standalone', 'Switchover']),
  promoteOption: z.enum(['Planned', 'Forced']),
  mode: z.enum(['promote', 'resume']),
  switchCommand: z.boolean(),
  reconnect: z.enum(['health-url', 'connections']).nullable().optional(),
  reconnectTimeoutSeconds: z.number().int().positive().optional(),
  pollSeconds: z.number().int().positive(),
  requestedAt: z.string().min(1),
}) satisfies z.ZodType<AzurePromoteParams>;

const SWITCH_STEP: StepDeclaration = { kind: 'switch', title: 'Switch the application to the new primary (RECOVER_FAILOVER_SWITCH_COMMAND)', destructive: true };
const RECONNECT_STEP: StepDeclaration = { kind: 'reconnect', title: 'Wait until the application reconnects', destructive: false };
export const AZURE_FAILOVER_STEPS: readonly StepDeclaration[] = [...AZURE_PROMOTE_STEPS, SWITCH_STEP, RECONNECT_STEP];

const refuse = (message: string, hint: string) => new RecoverError('FAILOVER_REFUSED', `${message} Nothing was done.`, { hint });
const ACCEPT_HINT = 'or promote without waiting for sync, losing what the replica did not receive: /recover failover --accept-data-loss <duration> (Forced; its own confirmation and approval)';

const describe = (server: ServerFacts) =>
  `${server.name} (${server.location}): ${server.state}, role ${server.role}${server.replicationState ? `, replication ${server.replicationState}` : ''}${server.replicaCapacity !== null ? `, replica capacity ${server.replicaCapacity}` : ''}`;

/** States of a replica being updated (possibly by an earlier job's promotion): followed, never sent again. */
const UPDATING = /updating|provisioning|starting/i;

export function azureFailoverPlan(args: FailoverArgs, facts: AzureFailoverFacts & BaseFacts): Plan {
  const { replica, primary, primaryError } = facts.azure;
  const name = facts.azure.replicaServer;
  if (!replica) throw refuse(`The read replica ${name} (RECOVER_AZURE_REPLICA_SERVER) does not exist in ${facts.azure.replicaResourceGroup}.`, 'Check RECOVER_AZURE_REPLICA_SERVER and RECOVER_AZURE_DR_RESOURCE_GROUP; with no replica, /recover georestore (geo-redundant backup) or /recover pitr in the other region.');
  const resume = UPDATING.test(replica.state) && isReplica(replica.role);
  if (!resume) {
    if (!isReplica(replica.role)) throw refuse(`${name} is not a read replica (role ${replica.role}): it is already a primary or standalone.`, 'If it was promoted already, switch the application to it.');
    if (replica.state !== 'Ready') throw refuse(`${name} is ${replica.state}, not Ready.`, 'Start it or wait until it is Ready, then run /recover failover again.');
    if (replica.replicationState && /provisioning|reconfiguring/i.test(replica.replicationState)) throw refuse(`${name}'s replication is ${replica.replicationState}: it is not a usable copy yet.`, 'Wait until its replication state is Active (Azure portal, Replication), then run /recover failover again.');
    if (replica.replicationState === 'Broken' && args.acceptDataLossSeconds === undefined) {
      throw refuse(`${name}'s replication is Broken: it stopped receiving from the primary, so a Planned promotion cannot sync it.`, `Repair or recreate the replica if the primary is alive; ${ACCEPT_HINT}, which loses everything since the break.`);
    }
  }
  const primaryUp = primary !== null && primary.state === 'Ready';
  if (!primaryUp && !args.primaryUnreachable && !resume) {
    throw refuse(
      `The primary ${facts.azure.primaryServer ?? '(not configured)'} is not Ready (${primary ? `${primary.state}` : primaryError}): only a Standalone promotion is possible, and if the primary comes back it accepts writes beside the promoted replica.`,
      'Make sure it stays down (stop it, or cut the application off from it), then run /recover failover --primary-unreachable.',
    );
  }
  const promoteMode = primaryUp ? 'Switchover' : 'Standalone';
  const promoteOption = args.acceptDataLossSeconds !== undefined ? 'Forced' : 'Planned';
  const switchCommand = facts.azure.switchArgv !== null;
  const reconnect = switchCommand ? facts.azure.reconnect : null;
  const kinds = ['azure-promote', 'azure-check', ...(switchCommand ? ['switch'] : []), ...(reconnect ? ['reconnect'] : [])];
  const reconnectTitle = reconnect === 'health-url' ? `Wait until RECOVER_FAILOVER_HEALTH_URL answers (at most ${facts.azure.reconnectTimeoutSeconds} s)` : `Wait until a client connects to ${name} (RECOVER_STANDBY_URL; at most ${facts.azure.reconnectTimeoutSeconds} s)`;
  const promoteTitle = resume
    ? `Follow the update of ${name} already under way (no second promotion: resume the earlier job's poller, or wait on the server)`
    : `Promote ${name}: servers.beginUpdate { replica: { promoteMode: ${promoteMode}, promoteOption: ${promoteOption} } }, polled to the end`;
  return {
    command: 'failover',
    summary: resume ? `Follow the promotion of ${name} already under way` : `Fail over to the Azure read replica ${name}: ${promoteMode} promotion, ${promoteOption}${switchCommand ? ', then switch the application' : ''}`,
    risk: 'destructive',
    steps: kinds.map((kind) => declaredStep(AZURE_FAILOVER_STEPS, kind, kind === 'azure-promote' ? { title: promoteTitle } : kind === 'switch' ? { title: `Switch the application: ${facts.azure.switchArgv!.join(' ')}` } : kind === 'reconnect' ? { title: reconnectTitle } : {})),
    facts: {
      Provider: 'Azure Database for PostgreSQL flexible server (RECOVER_FAILOVER_PROVIDER=azure)',
      'Read replica': describe(replica),
      Primary: primary ? describe(primary) : `not readable: ${primaryError}`,
      Lag: 'not given by Azure Resource Manager (Azure Monitor metric physical_replication_delay_in_seconds shows it); Planned waits until the replica is in sync',
      Promotion: promoteMode === 'Switchover'
        ? 'Switchover: the replica becomes the primary and the primary becomes its replica (never two primaries)'
        : 'Standalone: the replica becomes an independent server; the old primary is NOT fenced by Azure — acknowledged with --primary-unreachable',
      'Data loss': promoteOption === 'Planned'
        ? 'none: Planned waits until the replica received and applied everything'
        : `ACCEPTED with --accept-data-loss: Forced promotes at once; whatever the replica had not received is lost (Azure gives no lag figure to hold ${args.acceptDataLossSeconds} s against)`,
      'Application switch': switchCommand ? facts.azure.switchArgv!.join(' ') : 'not configured (RECOVER_FAILOVER_SWITCH_COMMAND): point the application at the new primary yourself',
      ...(switchCommand ? { 'Application reconnect': reconnect ? reconnectTitle : 'not checked: set RECOVER_FAILOVER_HEALTH_URL, or RECOVER_STANDBY_URL to the replica (a client connection on it after the switch counts)' } : {}),
    },
    params: {
      provider: 'azure',
      resourceGroup: facts.azure.replicaResourceGroup,
      replica: name,
      promoteMode,
      promoteOption,
      mode: resume ? 'resume' : 'promote',
      switchCommand,
      reconnect,
      reconnectTimeoutSeconds: facts.azure.reconnectTimeoutSeconds,
      pollSeconds: facts.azure.pollSeconds,
      requestedAt: facts.now.toISOString(),
    } satisfies AzurePromoteParams,
  };
}
