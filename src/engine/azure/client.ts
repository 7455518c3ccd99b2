/**
 * Azure Database for PostgreSQL flexible server through @azure/arm-postgresql-flexible (API
 * version 2025-08-01): the client, the settings a command needs (CONFIG_INVALID naming the
 * missing variable), and Azure's failures as RecoverErrors whose hint says what to do. The
 * credential is wrapped so a token failure is recognised as such; its text goes to the logs
 * (cause), never a token or secret to the channel.
 */
import type { TokenCredential } from '@azure/core-auth';
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible';
import type { AzureDbConfig, Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { tokenCredential } from '../../util/azure-credential.js';

export type FlexibleClient = PostgreSQLManagementFlexibleServerClient;

/** The settings of the flexible-server provider, with what a command requires present. */
export interface AzureDbSettings extends AzureDbConfig {
  subscriptionId: string;
  resourceGroup: string;
  drResourceGroup: string;
}

const DEFAULT_AZURE_DB: AzureDbConfig = { credential: 'default', armEndpoint: 'https://management.azure.com', pollSeconds: 15 };

/** Throws CONFIG_INVALID naming every missing variable of `need` (besides the subscription and resource group). */
export function azureDbSettings(config: Pick<Config, 'azureDb'>, what: string, need: ReadonlyArray<'primaryServer' | 'replicaServer' | 'drLocation'>): AzureDbSettings {
  const settings = config.azureDb ?? DEFAULT_AZURE_DB;
  const names = { subscriptionId: 'RECOVER_AZURE_SUBSCRIPTION_ID', resourceGroup: 'RECOVER_AZURE_RESOURCE_GROUP', primaryServer: 'RECOVER_AZURE_PRIMARY_SERVER', replicaServer: 'RECOVER_AZURE_REPLICA_SERVER', drLocation: 'RECOVER_AZURE_DR_LOCATION' } as const;
  const missing = (['subscriptionId', 'resourceGroup', ...need] as const).filter((key) => !settings[key]).map((key) => names[key]);
  if (missing.length > 0) {
    throw new RecoverError('CONFIG_INVALID', `${what} on Azure Database for PostgreSQL flexible server needs ${missing.join(', ')}.`, {
      hint: 'Set them on the runner (see README, "Configuration", Azure flexible server); the credential is RECOVER_AZURE_CREDENTIAL (DefaultAzureCredential by default).',
    });
  }
  return { ...settings, subscriptionId: settings.subscriptionId!, resourceGroup: settings.resourceGroup!, drResourceGroup: settings.drResourceGroup ?? settings.resourceGroup! };
}

class CredentialFailure extends Error {
  override readonly name = 'CredentialFailure';
}

/** A token failure thrown as CredentialFailure, whatever the pipeline does around it. */
function guarded(credential: TokenCredential): TokenCredential {
  return {
    getToken: async (scopes, options) => {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        throw new CredentialFailure(`the credential could not get a token: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/**
 * The client; `credential` replaces RECOVER_AZURE_CREDENTIAL's (tests pass a fake one). Retries
 * are the SDK's: 429 and 503 after Retry-After, other transient failures with backoff.
 */
export async function openFlexibleClient(settings: AzureDbSettings, credential?: TokenCredential, retries = 3): Promise<FlexibleClient> {
  const chosen = credential ?? (await tokenCredential(settings));
  return new PostgreSQLManagementFlexibleServerClient(guarded(chosen), settings.subscriptionId, {
    endpoint: settings.armEndpoint,
    retryOptions: { maxRetries: retries, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
  });
}

export const serverResourceId = (subscriptionId: string, resourceGroup: string, server: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}`;

interface AzureErrorShape {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  cause?: unknown;
}

function credentialFailed(error: unknown): boolean {
  for (let e = error as AzureErrorShape | undefined, depth = 0; e && depth < 5; e = e.cause as AzureErrorShape | undefined, depth += 1) {
    if (e instanceof CredentialFailure) return true;
  }
  return false;
}

const QUOTA = /quota/i;
const REGION = /offerrestricted|regionnotavailable|locationnotavailable|regiondoesnotallow|locationisnotavailable|notavailableinregion|capacity|zonenotavailable|subscriptionnotregisteredforregion/i;

/** Azure's failure of `what` (e.g. "the geo-restore of pg-dr"), as a RecoverError that says what to do. */
export function azureFailure(error: unknown, what: string): RecoverError {
  if (error instanceof RecoverError) return error;
  const e = (error ?? {}) as AzureErrorShape;
  const status = e.statusCode;
  // A failed long-running operation: core-lro puts the body's error as "has failed. <code>. <message>".
  const lro = /has failed\. ([\w.]+)\. (.*)$/s.exec(e.message ?? '');
  const code = e.code ?? lro?.[1] ?? '';
  if (lro) e.message = lro[2];
  const detail = `${code ? `${code}: ` : ''}${(e.message ?? String(error)).split('\n')[0]}`;
  if (credentialFailed(error) || e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError') {
    return new RecoverError('AZURE_AUTH', `Azure Resource Manager could not be reached with the configured credential, for ${what}: nothing was changed in Azure.`, {
      hint: 'Check RECOVER_AZURE_CREDENTIAL on the runner (default: DefaultAzureCredential; managed-identity, workload-identity, azure-cli or environment name one) and that the identity can get a token (az account get-access-token on that host).',
      cause: error,
    });
  }
  if (status === 401 || status === 403) {
    return new RecoverError('AZURE_AUTH', `Azure refused ${what} (${status}, ${detail}).`, {
      hint: "Give the runner's identity a role that may manage flexible servers (e.g. Contributor) on the resource groups named in RECOVER_AZURE_RESOURCE_GROUP / RECOVER_AZURE_DR_RESOURCE_GROUP.",
      cause: error,
    });
  }
  if (QUOTA.test(code) || QUOTA.test(e.message ?? '')) {
    return new RecoverError('AZURE_QUOTA', `A quota stops ${what}: ${detail}.`, {
      hint: 'Request a quota increase for the subscription in that region (Azure portal, Quotas), or restore to another region; /recover pitr restores from our own backups without Azure quotas.',
      cause: error,
    });
  }
  if (REGION.test(code) || (status === 503 && !code)) {
    return new RecoverError('AZURE_REGION_UNAVAILABLE', `The region cannot take ${what} now: ${detail}.`, {
      hint: 'Choose another region (RECOVER_AZURE_DR_LOCATION) or wait for it; /recover pitr from our own backups in another region does not depend on it.',
      cause: error,
    });
  }
  if (status === 409) {
    return new RecoverError('AZURE_CONFLICT', `Azure answered 409 Conflict to ${what}: ${detail}.`, {
      hint: 'Another operation runs on that server, or it already exists: look at its activity log, and run the command again once it ended (a running geo-restore or promotion is resumed, never sent twice).',
      cause: error,
    });
  }
  if (status === 429) {
    return new RecoverError('AZURE_THROTTLED', `Azure throttled ${what} (429) after the retries, each after its Retry-After: ${detail}.`, {
      hint: 'Wait a few minutes and run the command again; a long-running operation already accepted is resumed, not sent again.',
      cause: error,
    });
  }
  return new RecoverError('AZURE_OPERATION_FAILED', `Azure failed ${what}: ${detail}${status ? ` (HTTP ${status})` : ''}.`, {
    hint: "Read the server's activity log in the Azure portal for the operation's details; nothing else was changed by recover-bot.",
    cause: error,
  });
}
