/**
 * What recover-bot reads of a flexible server (servers.get, read-only) and the request bodies it
 * sends (pure builders): the promotion of a read replica and the creation of a geo-restored server.
 * The SDK's models are flattened; it sends them as { location, properties: { … } } on the wire.
 */
import type { Server, ServerForPatch } from '@azure/arm-postgresql-flexible';
import type { FlexibleClient } from './client.js';
import { azureFailure } from './client.js';

export interface ServerFacts {
  name: string;
  id: string;
  location: string;
  /** Ready, Updating, Provisioning, Stopped, Disabled, … */
  state: string;
  /** Primary, AsyncReplica, GeoAsyncReplica or None. */
  role: string;
  /** A replica's: Active, Catchup, Provisioning, Updating, Broken, Reconfiguring; null for a primary. */
  replicationState: string | null;
  replicaCapacity: number | null;
  geoRedundantBackup: 'Enabled' | 'Disabled' | null;
  earliestRestore: Date | null;
  fqdn: string | null;
  version: string | null;
  sku: string | null;
  sourceServerResourceId: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The facts of a server as servers.get returns it (pure). */
export function serverFacts(server: Server): ServerFacts {
  const geo = server.backup?.geoRedundantBackup;
  const earliest = server.backup?.earliestRestoreDate;
  return {
    name: server.name ?? '',
    id: server.id ?? '',
    location: server.location,
    state: text(server.state) ?? 'Unknown',
    role: text(server.replica?.role) ?? text(server.replicationRole) ?? 'None',
    replicationState: text(server.replica?.replicationState),
    replicaCapacity: server.replica?.capacity ?? server.replicaCapacity ?? null,
    geoRedundantBackup: geo === 'Enabled' || geo === 'Disabled' ? geo : null,
    earliestRestore: earliest ? new Date(earliest) : null,
    fqdn: text(server.fullyQualifiedDomainName),
    version: text(server.version),
    sku: server.sku ? `${server.sku.name} (${server.sku.tier})` : null,
    sourceServerResourceId: text(server.sourceServerResourceId),
  };
}

/** servers.get; null when the server does not exist (404). Other failures: azureFailure. */
export async function readServer(client: FlexibleClient, resourceGroup: string, name: string, abortSignal?: AbortSignal): Promise<ServerFacts | null> {
  try {
    return serverFacts(await client.servers.get(resourceGroup, name, abortSignal ? { abortSignal } : {}));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw azureFailure(error, `reading the server ${name} (resource group ${resourceGroup})`);
  }
}

export const isReplica = (role: string) => /replica/i.test(role);

export type PromoteMode = 'Standalone' | 'Switchover';
export type PromoteOption = 'Planned' | 'Forced';

/** The PATCH that promotes a read replica: Planned waits until it is fully in sync, Forced does not (data may be lost). */
export function promoteBody(mode: PromoteMode, option: PromoteOption): ServerForPatch {
  return { replica: { promoteMode: mode, promoteOption: option } };
}

/** The PUT that creates a server from the source's geo-redundant backup, in `location`, as of `pointInTime`. */
export function geoRestoreBody(location: string, sourceServerResourceId: string, pointInTime: Date): Server {
  return { location, createMode: 'GeoRestore', sourceServerResourceId, pointInTimeUTC: pointInTime };
}
