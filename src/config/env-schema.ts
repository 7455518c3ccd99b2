/** Every environment variable recover-bot reads, with its default and its check (see README, "Configuration"). */
import { z } from 'zod';
import { parseFailpoints } from './failpoints.js';
import {
  approversSchema,
  azureConnectionString,
  azureResourceGroup,
  azureServerName,
  booleanFlag,
  cronText,
  httpUrl,
  jsonArgv,
  jsonOf,
  positiveInt,
  postgresUrl,
  requiredSchema,
} from './values.js';

export const envSchema = z.object({
  // No default: a runner that silently used a local directory would report "no backups".
  RECOVER_STORAGE_DRIVER: z.enum(['local', 'azure']).optional(),
  RECOVER_STORAGE_LOCAL_DIR: z.string().min(1).default('/var/lib/recover-bot/storage'),
  RECOVER_AZURE_CONNECTION_STRING: azureConnectionString.optional(),
  RECOVER_AZURE_ACCOUNT: z.string().regex(/^[a-z0-9]{3,24}$/, 'expected a storage account name (3-24 lowercase letters/digits)').optional(),
  RECOVER_AZURE_ACCOUNT_KEY: z.string().min(1).optional(),
  RECOVER_AZURE_ENDPOINT: httpUrl('https://ACCOUNT.blob.core.windows.net').optional(),
  RECOVER_AZURE_CREDENTIAL: z.enum(['default', 'managed-identity', 'workload-identity', 'azure-cli', 'environment']).default('default'),
  RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID: z.string().optional(),
  RECOVER_CONTAINER_BACKUPS: z.string().min(3).default('postgresql-full'),
  RECOVER_BACKUP_PREFIX: z.string().default('daily/'),
  RECOVER_CONTAINER_WAL: z.string().min(3).default('postgresql-wal-archive'),
  RECOVER_WAL_PREFIX: z.string().default('wal/'),
  RECOVER_CONTAINER_DUMPS: z.string().min(3).default('postgresql-dumps'),
  // recover dump-backup (engine/dumps): the databases dumped, comma-separated; empty: every database of production that takes connections and is not a template.
  RECOVER_DUMP_DATABASES: z.string().regex(/^\s*([A-Za-z_][A-Za-z0-9_$]{0,62}\s*(,\s*[A-Za-z_][A-Za-z0-9_$]{0,62}\s*)*)?$/, 'expected database names separated by commas, e.g. app,billing').default(''),
  // pg_dump workers per database for scheduled dumps and `recover dump-backup` without --jobs (the runner's cores; pg_dump -j opens that many connections to production).
  RECOVER_DUMP_JOBS: z.coerce.number().int().min(1).max(16).default(2),
  RECOVER_STORAGE_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  RECOVER_STORAGE_TIMEOUT_MS: positiveInt(30_000),
  RECOVER_PG_BIN: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  RECOVER_PG_OS_USER: z.string().min(1).default('postgres'),
  // Base backups: target size of one part (MiB of tar) and parts moved at once (memory ≈ parallel × ~40 MiB;
  // unset: the runner's cores, 2 to 16 — more parts than cores only add contention, measured in bench/backup.ts).
  RECOVER_BASE_PART_MIB: z.coerce.number().int().min(1).max(64 * 1024).default(64),
  RECOVER_BASE_PARALLEL: z.coerce.number().int().min(1).max(64).optional(),
  // Base backups: how each part is compressed (zstd -1 through the zstd CLI, or LZ4 frames); recorded per part in the manifest.
  RECOVER_BASE_CODEC: z.enum(['zstd', 'lz4']).default('zstd'),
  // Restores: which tar extracts base backup parts (auto: libarchive's bsdtar when installed, else GNU tar).
  RECOVER_TAR: z.enum(['auto', 'bsdtar', 'gnu']).default('auto'),
  // Backups: read the data files directly when the runner is on the database host (files), pg_basebackup's stream (stream), or files when possible (auto).
  RECOVER_BACKUP_METHOD: z.enum(['auto', 'files', 'stream']).default('auto'),
  RECOVER_SOURCE_URL: postgresUrl('RECOVER_SOURCE_URL').optional(),
  RECOVER_SOURCE_DATA_DIR: z.string().min(1).optional(),
  RECOVER_SOURCE_STOP: z.enum(['pg_ctl', 'hook']).default('pg_ctl'),
  RECOVER_SOURCE_STOP_COMMAND: jsonArgv.optional(),
  RECOVER_SOURCE_START_COMMAND: jsonArgv.optional(),
  // /recover failover (engine/failover): the DR standby to promote, how to fence the old primary and switch the application (JSON argv), and the lag rule.
  RECOVER_STANDBY_URL: postgresUrl('RECOVER_STANDBY_URL').optional(),
  RECOVER_STANDBY_DATA_DIR: z.string().min(1).optional(),
  RECOVER_FAILOVER_FENCE_COMMAND: jsonArgv.optional(),
  RECOVER_FAILOVER_SWITCH_COMMAND: jsonArgv.optional(),
  RECOVER_FAILOVER_HEALTH_URL: httpUrl('https://api.example.net/healthz').optional(),
  RECOVER_FAILOVER_MAX_LAG_S: positiveInt(60),
  RECOVER_FAILOVER_CATCHUP_TIMEOUT_S: positiveInt(600),
  RECOVER_FAILOVER_RECONNECT_TIMEOUT_S: positiveInt(300),
  // Azure Database for PostgreSQL flexible server (engine/azure): /recover failover promotes the read replica instead of RECOVER_STANDBY_URL,
  // /recover georestore creates a server from the geo-redundant backup in the paired region. Credentials: RECOVER_AZURE_CREDENTIAL.
  RECOVER_FAILOVER_PROVIDER: z.enum(['self-managed', 'azure']).default('self-managed'),
  RECOVER_AZURE_SUBSCRIPTION_ID: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a subscription id (a GUID)').optional(),
  RECOVER_AZURE_RESOURCE_GROUP: azureResourceGroup.optional(),
  RECOVER_AZURE_PRIMARY_SERVER: azureServerName.optional(),
  RECOVER_AZURE_REPLICA_SERVER: azureServerName.optional(),
  RECOVER_AZURE_DR_RESOURCE_GROUP: azureResourceGroup.optional(),
  RECOVER_AZURE_DR_LOCATION: z.string().regex(/^[a-z][a-z0-9]{2,40}$/, 'expected an Azure region name, e.g. westus3').optional(),
  RECOVER_AZURE_ARM_ENDPOINT: httpUrl('https://management.azure.com').default('https://management.azure.com'),
  RECOVER_AZURE_POLL_SECONDS: positiveInt(15),
  RECOVER_RESTORE_ROOT: z.string().min(1).default('/var/lib/recover-bot/restores'),
  // The CLI's own records (the verified database copies it made): on the runner's or CLI's disk, never on production.
  RECOVER_STATE_DIR: z.string().regex(/^\//, 'expected an absolute path, e.g. /var/lib/recover-bot/state').default('/var/lib/recover-bot/state'),
  RECOVER_WAL_AGENT_SOCKET: z.string().min(1).default('/run/recover-bot/wal-agent.sock'),
  // Settings read from a file (config/env-file.ts): for `recover wal-push` run by PostgreSQL, whose environment nobody sets.
  RECOVER_ENV_FILE: z.string().regex(/^\//, 'expected an absolute path, e.g. /etc/recover-bot/env').optional(),
  // The WAL hook's lines: the node binary the postgres user runs it with (default /usr/bin/node when present, else the agent's own),
  // and the recover executable it falls back to when the agent does not answer (default: the one running the agent).
  RECOVER_HOOK_NODE: z.string().regex(/^\//, 'expected an absolute path, e.g. /usr/bin/node').optional(),
  RECOVER_HOOK_FALLBACK: z.string().regex(/^\//, 'expected an absolute path, e.g. /usr/local/bin/recover').optional(),
  RECOVER_PREFETCH_PARALLEL: positiveInt(8),
  RECOVER_PREFETCH_AHEAD: positiveInt(64),
  RECOVER_RECOVERY_TIMEOUT_S: positiveInt(4 * 3600),
  RECOVER_VERIFY_TABLES: z.string().default(''),
  // The integrity checker's file (JSON, see config/integrity-schema.ts); read when verifying.
  RECOVER_VERIFY_CONFIG: z.string().min(1).optional(),
  RECOVER_CONTROL_URL: postgresUrl('RECOVER_CONTROL_URL').optional(),
  RECOVER_POOL: z.string().regex(/^[\w.-]{1,64}$/).default('default'),
  RECOVER_RUNNER_ID: z.string().min(1).optional(),
  // Which host a runner is on, for routing in-place plans (default the OS hostname; set it when that changes, e.g. in a container).
  RECOVER_RUNNER_HOST: z.string().regex(/^[\w.-]{1,253}$/, 'expected a host name, e.g. db1.example.net').optional(),
  // A runner renews its lease every third of it (at most every 5 s); without a renewal for this long its job is failed as RUNNER_LOST.
  RECOVER_LEASE_SECONDS: z.coerce.number().int().min(15).max(86_400).default(60),
  // Fault tests only (engine/failpoints.ts): the process kills itself at these points.
  RECOVER_FAILPOINTS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const parsed = parseFailpoints(text);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  // Retention (engine/retention/plan.ts): keep the newest N complete base backups and/or stay restorable for D days; unset: nothing expires.
  RECOVER_RETENTION_FULL: z.coerce.number().int().min(1).max(10_000).optional(),
  RECOVER_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  // When runners take a base backup (then apply retention): cron, UTC (util/cron.ts); one runner of the pool takes each slot.
  RECOVER_BACKUP_SCHEDULE: cronText.optional(),
  // When runners take `recover dump-backup` (cron, UTC; one runner of the pool takes each slot), then dump retention: the newest N complete dumps and/or D days per database (engine/dumps/retention.ts); unset: no dump expires.
  RECOVER_DUMP_SCHEDULE: cronText.optional(),
  RECOVER_DUMP_RETENTION_COUNT: z.coerce.number().int().min(1).max(10_000).optional(),
  RECOVER_DUMP_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  // Restore drills (drills/run.ts): when the runners drill (cron, UTC; one runner of the pool takes each slot), and the share of the RTO goal past which a drill's RTO is warned about.
  RECOVER_DRILL_SCHEDULE: cronText.optional(),
  RECOVER_DRILL_WARN_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  // No default: it is the text people type to confirm destroying production (see requireProductionName).
  RECOVER_PRODUCTION_NAME: z.string().regex(/^[\w.-]{1,63}$/, 'expected a name of 1-63 letters, digits, _ . -, e.g. aiagent_prod').optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'expected a bot token starting with xoxb-').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'expected an app-level token starting with xapp-').optional(),
  SLACK_SOCKET_MODE: booleanFlag.default(false),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // GET /healthz and /readyz (util/health.ts) for the runner, and for the bot where SLACK_PORT does not serve them; empty = unset.
  RECOVER_HEALTH_PORT: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(65535).optional()),
  SLACK_API_URL: httpUrl('http://127.0.0.1:4000/api/').optional(),
  RECOVER_ALLOWED_CHANNELS: z.string().default('inc-*'),
  RECOVER_APPROVERS: jsonOf(approversSchema, '{"T0123":{"users":["U0456"],"usergroups":["S0789"]}}').optional(),
  RECOVER_APPROVALS_REQUIRED: jsonOf(requiredSchema, '{"side-copy":1,"destructive":2}').optional(),
  RECOVER_APPROVAL_TTL_MINUTES: positiveInt(30),
  // The recovery objectives summaries measure against (runbook: 15 min of data at most, back within 2 h); at most a week.
  RECOVER_RPO_MINUTES: z.coerce.number().int().min(1).max(10_080).default(15),
  RECOVER_RTO_MINUTES: z.coerce.number().int().min(1).max(10_080).default(120),
  // The RPO watch (runner/rpo): where the bot posts its alerts (a channel id; unset: recorded, not posted), how often the runner looks (0: never), how often it reminds.
  RECOVER_ALERT_CHANNEL: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'expected a channel id, e.g. C0123ABCD').optional(),
  RECOVER_RPO_CHECK_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  RECOVER_RPO_REMINDER_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  // No default here: services log at info, the CLI's commands for people at warn (src/cli/runtime.ts), unless it is set.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});

export type Env = z.infer<typeof envSchema>;
