import { availableParallelism, hostname } from 'node:os';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { RecoverError } from './errors.js';
import { withEnvFile } from './config/env-file.js';
import { envSchema, type Env } from './config/env-schema.js';
import type { ApprovalConfig, AzureAuth, Config, VerifyTable } from './config/types.js';

/**
 * loadConfig(env) is the only reader of the environment. Every other module receives the
 * parsed Config (or a slice of it) explicitly. The checks of each variable are in
 * config/env-schema.ts and config/values.ts; the shape handed out is config/types.ts.
 */

export type { ApprovalConfig, AzureAuth, AzureDbConfig, Config, FailoverConfig, RecoveryObjectives, SlackConfig, StorageConfig, VerifyTable } from './config/types.js';
export { requireProductionName, requireStorageDriver, storageDriverMissing } from './config/requirements.js';
export { azureConnectionStringProblem } from './config/values.js';
export { checksFor, IntegrityConfigError, parseIntegrityConfig, type DatabaseChecks, type IntegrityConfig, type Relation, type RuleCheck } from './config/integrity-schema.js';

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`).join('; ');
}

export function parseVerifyTables(text: string): VerifyTable[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [table, timestampColumn] = part.split(':');
      return timestampColumn ? { table: table!, timestampColumn } : { table: table! };
    });
}

function azureAuth(env: Env): AzureAuth | undefined {
  if (env.RECOVER_AZURE_CONNECTION_STRING) {
    return { kind: 'connection-string', connectionString: env.RECOVER_AZURE_CONNECTION_STRING };
  }
  if (!env.RECOVER_AZURE_ACCOUNT) return undefined;
  const endpoint = env.RECOVER_AZURE_ENDPOINT ?? `https://${env.RECOVER_AZURE_ACCOUNT}.blob.core.windows.net`;
  if (env.RECOVER_AZURE_ACCOUNT_KEY) {
    return { kind: 'shared-key', account: env.RECOVER_AZURE_ACCOUNT, accountKey: env.RECOVER_AZURE_ACCOUNT_KEY, endpoint };
  }
  return {
    kind: 'token',
    account: env.RECOVER_AZURE_ACCOUNT,
    endpoint,
    credential: env.RECOVER_AZURE_CREDENTIAL,
    ...(env.RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID ? { managedIdentityClientId: env.RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID } : {}),
  };
}

/**
 * Parts moved at once when RECOVER_BASE_PARALLEL is unset: one per core, at least 2 (a download
 * or upload overlaps the other part's CPU work) and at most 16 (memory ≈ parallel × ~40 MiB).
 * Measured on 2 cores (pgbench scale 300): 2 parts restored in 4.4 s against 4.9 s for 4, and backed
 * up in 10.0 s against 10.4 s — more parts than cores only add contention.
 */
export function defaultBaseParallel(cores: number): number {
  return Math.min(16, Math.max(2, cores));
}

/** Whether `path` is `dir` or below it (after resolving `..`). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

export function loadConfig(environment: Record<string, string | undefined>): Config {
  const env = withEnvFile(environment);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new RecoverError('CONFIG_INVALID', `Configuration is invalid: ${describeIssues(parsed.error.issues)}`, {
      hint: 'Fix the named environment variables and start again (see README, "Configuration").',
    });
  }
  const e = parsed.data;
  const azure = azureAuth(e);
  if (e.RECOVER_STORAGE_DRIVER === 'azure' && !azure) {
    throw new RecoverError(
      'CONFIG_INVALID',
      'Configuration is invalid: RECOVER_STORAGE_DRIVER=azure needs RECOVER_AZURE_CONNECTION_STRING or RECOVER_AZURE_ACCOUNT',
      { hint: 'Set RECOVER_AZURE_ACCOUNT (uses DefaultAzureCredential) or a connection string for Azurite.' },
    );
  }
  if (e.RECOVER_SOURCE_STOP === 'hook' && (!e.RECOVER_SOURCE_STOP_COMMAND || !e.RECOVER_SOURCE_START_COMMAND)) {
    throw new RecoverError(
      'CONFIG_INVALID',
      'Configuration is invalid: RECOVER_SOURCE_STOP=hook needs RECOVER_SOURCE_STOP_COMMAND and RECOVER_SOURCE_START_COMMAND',
      { hint: 'Give both as JSON arrays, e.g. ["kubectl","scale","deploy/postgres","--replicas=0"].' },
    );
  }
  // The record that a copy was verified must not live where production (or whoever restores it) writes.
  if (e.RECOVER_SOURCE_DATA_DIR && isInside(e.RECOVER_STATE_DIR, e.RECOVER_SOURCE_DATA_DIR)) {
    throw new RecoverError('CONFIG_INVALID', 'Configuration is invalid: RECOVER_STATE_DIR is inside RECOVER_SOURCE_DATA_DIR (production\'s data directory)', {
      hint: 'Keep the state directory on the runner\'s own disk, e.g. /var/lib/recover-bot/state.',
    });
  }
  return {
    storage: {
      ...(e.RECOVER_STORAGE_DRIVER ? { driver: e.RECOVER_STORAGE_DRIVER } : {}),
      localDir: e.RECOVER_STORAGE_LOCAL_DIR,
      ...(azure ? { azure } : {}),
      containers: { backups: e.RECOVER_CONTAINER_BACKUPS, wal: e.RECOVER_CONTAINER_WAL, dumps: e.RECOVER_CONTAINER_DUMPS },
      backupPrefix: e.RECOVER_BACKUP_PREFIX,
      walPrefix: e.RECOVER_WAL_PREFIX,
      retries: e.RECOVER_STORAGE_RETRIES,
      timeoutMs: e.RECOVER_STORAGE_TIMEOUT_MS,
    },
    pg: {
      bin: e.RECOVER_PG_BIN,
      osUser: e.RECOVER_PG_OS_USER,
      tar: e.RECOVER_TAR,
      backupMethod: e.RECOVER_BACKUP_METHOD,
      baseTransfer: { partBytes: e.RECOVER_BASE_PART_MIB * 1024 * 1024, parallel: e.RECOVER_BASE_PARALLEL ?? defaultBaseParallel(availableParallelism()), codec: e.RECOVER_BASE_CODEC },
    },
    source: {
      ...(e.RECOVER_SOURCE_URL ? { url: e.RECOVER_SOURCE_URL } : {}),
      ...(e.RECOVER_SOURCE_DATA_DIR ? { dataDir: e.RECOVER_SOURCE_DATA_DIR } : {}),
      stop: {
        method: e.RECOVER_SOURCE_STOP,
        ...(e.RECOVER_SOURCE_STOP_COMMAND ? { stopCommand: e.RECOVER_SOURCE_STOP_COMMAND } : {}),
        ...(e.RECOVER_SOURCE_START_COMMAND ? { startCommand: e.RECOVER_SOURCE_START_COMMAND } : {}),
      },
    },
    failover: {
      provider: e.RECOVER_FAILOVER_PROVIDER,
      ...(e.RECOVER_STANDBY_URL ? { standbyUrl: e.RECOVER_STANDBY_URL } : {}),
      ...(e.RECOVER_STANDBY_DATA_DIR ? { standbyDataDir: e.RECOVER_STANDBY_DATA_DIR } : {}),
      ...(e.RECOVER_FAILOVER_FENCE_COMMAND ? { fenceCommand: e.RECOVER_FAILOVER_FENCE_COMMAND } : {}),
      ...(e.RECOVER_FAILOVER_SWITCH_COMMAND ? { switchCommand: e.RECOVER_FAILOVER_SWITCH_COMMAND } : {}),
      ...(e.RECOVER_FAILOVER_HEALTH_URL ? { healthUrl: e.RECOVER_FAILOVER_HEALTH_URL } : {}),
      maxLagSeconds: e.RECOVER_FAILOVER_MAX_LAG_S,
      catchUpTimeoutSeconds: e.RECOVER_FAILOVER_CATCHUP_TIMEOUT_S,
      reconnectTimeoutSeconds: e.RECOVER_FAILOVER_RECONNECT_TIMEOUT_S,
    },
    azureDb: {
      ...(e.RECOVER_AZURE_SUBSCRIPTION_ID ? { subscriptionId: e.RECOVER_AZURE_SUBSCRIPTION_ID } : {}),
      ...(e.RECOVER_AZURE_RESOURCE_GROUP ? { resourceGroup: e.RECOVER_AZURE_RESOURCE_GROUP } : {}),
      ...(e.RECOVER_AZURE_PRIMARY_SERVER ? { primaryServer: e.RECOVER_AZURE_PRIMARY_SERVER } : {}),
      ...(e.RECOVER_AZURE_REPLICA_SERVER ? { replicaServer: e.RECOVER_AZURE_REPLICA_SERVER } : {}),
      ...(e.RECOVER_AZURE_DR_RESOURCE_GROUP ? { drResourceGroup: e.RECOVER_AZURE_DR_RESOURCE_GROUP } : {}),
      ...(e.RECOVER_AZURE_DR_LOCATION ? { drLocation: e.RECOVER_AZURE_DR_LOCATION } : {}),
      credential: e.RECOVER_AZURE_CREDENTIAL,
      ...(e.RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID ? { managedIdentityClientId: e.RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID } : {}),
      armEndpoint: e.RECOVER_AZURE_ARM_ENDPOINT,
      pollSeconds: e.RECOVER_AZURE_POLL_SECONDS,
    },
    restoreRoot: e.RECOVER_RESTORE_ROOT,
    stateDir: e.RECOVER_STATE_DIR,
    dumpJobs: e.RECOVER_DUMP_JOBS,
    ...(e.RECOVER_DUMP_DATABASES.trim() ? { dumpDatabases: e.RECOVER_DUMP_DATABASES.split(',').map((part) => part.trim()).filter(Boolean) } : {}),
    walAgentSocket: e.RECOVER_WAL_AGENT_SOCKET,
    hook: {
      ...(e.RECOVER_HOOK_NODE ? { node: e.RECOVER_HOOK_NODE } : {}),
      ...(e.RECOVER_HOOK_FALLBACK ? { fallback: e.RECOVER_HOOK_FALLBACK } : {}),
      ...(e.RECOVER_ENV_FILE ? { envFile: e.RECOVER_ENV_FILE } : {}),
    },
    prefetch: { parallel: e.RECOVER_PREFETCH_PARALLEL, ahead: e.RECOVER_PREFETCH_AHEAD },
    recoveryTimeoutSeconds: e.RECOVER_RECOVERY_TIMEOUT_S,
    verifyTables: parseVerifyTables(e.RECOVER_VERIFY_TABLES),
    ...(e.RECOVER_VERIFY_CONFIG ? { verifyConfigFile: e.RECOVER_VERIFY_CONFIG } : {}),
    ...(e.LOG_LEVEL ? { logLevel: e.LOG_LEVEL } : {}),
    ...(e.RECOVER_CONTROL_URL ? { controlUrl: e.RECOVER_CONTROL_URL } : {}),
    pool: e.RECOVER_POOL,
    ...(e.RECOVER_RUNNER_ID ? { runnerId: e.RECOVER_RUNNER_ID } : {}),
    runnerHost: e.RECOVER_RUNNER_HOST ?? hostname(),
    leaseSeconds: e.RECOVER_LEASE_SECONDS,
    ...(e.RECOVER_HEALTH_PORT !== undefined ? { healthPort: e.RECOVER_HEALTH_PORT } : {}),
    failpoints: e.RECOVER_FAILPOINTS,
    retention: {
      ...(e.RECOVER_RETENTION_FULL === undefined ? {} : { full: e.RECOVER_RETENTION_FULL }),
      ...(e.RECOVER_RETENTION_DAYS === undefined ? {} : { days: e.RECOVER_RETENTION_DAYS }),
    },
    ...(e.RECOVER_BACKUP_SCHEDULE ? { backupSchedule: e.RECOVER_BACKUP_SCHEDULE.trim() } : {}),
    ...(e.RECOVER_DUMP_SCHEDULE ? { dumpSchedule: e.RECOVER_DUMP_SCHEDULE.trim() } : {}),
    dumpRetention: {
      ...(e.RECOVER_DUMP_RETENTION_COUNT === undefined ? {} : { count: e.RECOVER_DUMP_RETENTION_COUNT }),
      ...(e.RECOVER_DUMP_RETENTION_DAYS === undefined ? {} : { days: e.RECOVER_DUMP_RETENTION_DAYS }),
    },
    ...(e.RECOVER_PRODUCTION_NAME ? { productionName: e.RECOVER_PRODUCTION_NAME } : {}),
    slack: {
      ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
      ...(e.SLACK_BOT_TOKEN ? { botToken: e.SLACK_BOT_TOKEN } : {}),
      ...(e.SLACK_APP_TOKEN ? { appToken: e.SLACK_APP_TOKEN } : {}),
      socketMode: e.SLACK_SOCKET_MODE,
      port: e.SLACK_PORT,
      ...(e.SLACK_API_URL ? { apiUrl: e.SLACK_API_URL } : {}),
      allowedChannels: e.RECOVER_ALLOWED_CHANNELS.split(',').map((part) => part.trim()).filter(Boolean),
    },
    approval: {
      approvers: (e.RECOVER_APPROVERS ?? {}) as ApprovalConfig['approvers'],
      required: { 'read-only': 0, 'side-copy': 1, destructive: 1, ...e.RECOVER_APPROVALS_REQUIRED },
      ttlMinutes: e.RECOVER_APPROVAL_TTL_MINUTES,
    },
    objectives: { rpoSeconds: e.RECOVER_RPO_MINUTES * 60, rtoSeconds: e.RECOVER_RTO_MINUTES * 60 },
    alerts: { ...(e.RECOVER_ALERT_CHANNEL ? { channel: e.RECOVER_ALERT_CHANNEL } : {}), checkSeconds: e.RECOVER_RPO_CHECK_SECONDS, reminderSeconds: e.RECOVER_RPO_REMINDER_MINUTES * 60 },
    drill: { ...(e.RECOVER_DRILL_SCHEDULE ? { schedule: e.RECOVER_DRILL_SCHEDULE.trim() } : {}), warnShare: e.RECOVER_DRILL_WARN_PERCENT / 100 },
  };
}
