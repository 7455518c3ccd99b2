import { z } from 'zod';
import { RecoverError } from './errors.js';

/**
 * loadConfig(env) is the only reader of the environment. Every other module receives the
 * parsed Config (or a slice of it) explicitly.
 */

const jsonArgv = z
  .string()
  .transform((text, ctx) => {
    try {
      const value: unknown = JSON.parse(text);
      if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string')) {
        return value as string[];
      }
    } catch {
      // fall through to the issue below: a parse failure and a wrong shape get the same fix
    }
    ctx.addIssue({ code: 'custom', message: 'expected a JSON array of strings, e.g. ["systemctl","stop","postgresql@15-main"]' });
    return z.NEVER;
  });

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A JSON value checked against a schema, with the same kind of message as every other key. */
const jsonOf = <T extends z.ZodType>(schema: T, example: string) =>
  z.string().transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON, e.g. ${example}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `expected JSON like ${example}` });
      return z.NEVER;
    }
    return parsed.data as z.infer<T>;
  });

const approversSchema = z.record(
  z.string().regex(/^[TE][A-Z0-9]+$/),
  z.object({ users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/)).default([]), usergroups: z.array(z.string().regex(/^S[A-Z0-9]+$/)).default([]) }),
);
const requiredSchema = z.object({ 'read-only': z.number().int().min(0).max(5), 'side-copy': z.number().int().min(0).max(5), destructive: z.number().int().min(1).max(5) }).partial();
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  RECOVER_STORAGE_DRIVER: z.enum(['local', 'azure']).default('local'),
  RECOVER_STORAGE_LOCAL_DIR: z.string().min(1).default('/var/lib/recover-bot/storage'),
  RECOVER_AZURE_CONNECTION_STRING: z.string().min(1).optional(),
  RECOVER_AZURE_ACCOUNT: z.string().regex(/^[a-z0-9]{3,24}$/, 'expected a storage account name (3-24 lowercase letters/digits)').optional(),
  RECOVER_AZURE_ACCOUNT_KEY: z.string().min(1).optional(),
  RECOVER_AZURE_ENDPOINT: z.url().optional(),
  RECOVER_AZURE_CREDENTIAL: z.enum(['default', 'managed-identity', 'workload-identity', 'azure-cli', 'environment']).default('default'),
  RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID: z.string().optional(),
  RECOVER_CONTAINER_BACKUPS: z.string().min(3).default('postgresql-full'),
  RECOVER_BACKUP_PREFIX: z.string().default('daily/'),
  RECOVER_CONTAINER_WAL: z.string().min(3).default('postgresql-wal-archive'),
  RECOVER_WAL_PREFIX: z.string().default('wal/'),
  RECOVER_CONTAINER_DUMPS: z.string().min(3).default('postgresql-dumps'),
  RECOVER_STORAGE_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  RECOVER_STORAGE_TIMEOUT_MS: positiveInt(30_000),
  RECOVER_PG_BIN: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  RECOVER_PG_OS_USER: z.string().min(1).default('postgres'),
  RECOVER_SOURCE_URL: z.string().min(1).optional(),
  RECOVER_SOURCE_DATA_DIR: z.string().min(1).optional(),
  RECOVER_SOURCE_STOP: z.enum(['pg_ctl', 'hook']).default('pg_ctl'),
  RECOVER_SOURCE_STOP_COMMAND: jsonArgv.optional(),
  RECOVER_SOURCE_START_COMMAND: jsonArgv.optional(),
  RECOVER_RESTORE_ROOT: z.string().min(1).default('/var/lib/recover-bot/restores'),
  RECOVER_WAL_AGENT_SOCKET: z.string().min(1).default('/run/recover-bot/wal-agent.sock'),
  RECOVER_PREFETCH_PARALLEL: positiveInt(8),
  RECOVER_PREFETCH_AHEAD: positiveInt(64),
  RECOVER_RECOVERY_TIMEOUT_S: positiveInt(4 * 3600),
  RECOVER_VERIFY_TABLES: z.string().default(''),
  RECOVER_CONTROL_URL: z.string().min(1).optional(),
  RECOVER_POOL: z.string().regex(/^[\w.-]{1,64}$/).default('default'),
  RECOVER_RUNNER_ID: z.string().min(1).optional(),
  RECOVER_PRODUCTION_NAME: z.string().regex(/^[\w.-]{1,63}$/).default('aiagent_prod'),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'expected a bot token starting with xoxb-').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'expected an app-level token starting with xapp-').optional(),
  SLACK_SOCKET_MODE: booleanFlag.default(false),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SLACK_API_URL: z.url().optional(),
  RECOVER_ALLOWED_CHANNELS: z.string().default('inc-*'),
  RECOVER_APPROVERS: jsonOf(approversSchema, '{"T0123":{"users":["U0456"],"usergroups":["S0789"]}}').optional(),
  RECOVER_APPROVALS_REQUIRED: jsonOf(requiredSchema, '{"side-copy":1,"destructive":2}').optional(),
  RECOVER_APPROVAL_TTL_MINUTES: positiveInt(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AzureAuth =
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'shared-key'; account: string; accountKey: string; endpoint: string }
  | { kind: 'token'; account: string; endpoint: string; credential: string; managedIdentityClientId?: string };

export interface StorageConfig {
  driver: 'local' | 'azure';
  localDir: string;
  azure?: AzureAuth;
  containers: { backups: string; wal: string; dumps: string };
  backupPrefix: string;
  walPrefix: string;
  retries: number;
  timeoutMs: number;
}

export interface VerifyTable {
  table: string;
  timestampColumn?: string;
}

export interface SlackConfig {
  signingSecret?: string;
  botToken?: string;
  appToken?: string;
  socketMode: boolean;
  port: number;
  /** Web API base URL; only set to point the bot at the Slack stand-in. */
  apiUrl?: string;
  /** Channel name patterns (`inc-*`) or channel IDs where /recover is accepted. */
  allowedChannels: string[];
}

export interface ApprovalConfig {
  approvers: Record<string, { users: string[]; usergroups: string[] }>;
  required: { 'read-only': number; 'side-copy': number; destructive: number };
  ttlMinutes: number;
}

export interface Config {
  storage: StorageConfig;
  pg: { bin: string; osUser: string };
  source: {
    url?: string;
    dataDir?: string;
    stop: { method: 'pg_ctl' | 'hook'; stopCommand?: string[]; startCommand?: string[] };
  };
  restoreRoot: string;
  walAgentSocket: string;
  prefetch: { parallel: number; ahead: number };
  recoveryTimeoutSeconds: number;
  verifyTables: VerifyTable[];
  logLevel: string;
  controlUrl?: string;
  pool: string;
  runnerId?: string;
  productionName: string;
  slack: SlackConfig;
  approval: ApprovalConfig;
}

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

function azureAuth(env: z.infer<typeof envSchema>): AzureAuth | undefined {
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

export function loadConfig(env: Record<string, string | undefined>): Config {
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
  return {
    storage: {
      driver: e.RECOVER_STORAGE_DRIVER,
      localDir: e.RECOVER_STORAGE_LOCAL_DIR,
      ...(azure ? { azure } : {}),
      containers: { backups: e.RECOVER_CONTAINER_BACKUPS, wal: e.RECOVER_CONTAINER_WAL, dumps: e.RECOVER_CONTAINER_DUMPS },
      backupPrefix: e.RECOVER_BACKUP_PREFIX,
      walPrefix: e.RECOVER_WAL_PREFIX,
      retries: e.RECOVER_STORAGE_RETRIES,
      timeoutMs: e.RECOVER_STORAGE_TIMEOUT_MS,
    },
    pg: { bin: e.RECOVER_PG_BIN, osUser: e.RECOVER_PG_OS_USER },
    source: {
      ...(e.RECOVER_SOURCE_URL ? { url: e.RECOVER_SOURCE_URL } : {}),
      ...(e.RECOVER_SOURCE_DATA_DIR ? { dataDir: e.RECOVER_SOURCE_DATA_DIR } : {}),
      stop: {
        method: e.RECOVER_SOURCE_STOP,
        ...(e.RECOVER_SOURCE_STOP_COMMAND ? { stopCommand: e.RECOVER_SOURCE_STOP_COMMAND } : {}),
        ...(e.RECOVER_SOURCE_START_COMMAND ? { startCommand: e.RECOVER_SOURCE_START_COMMAND } : {}),
      },
    },
    restoreRoot: e.RECOVER_RESTORE_ROOT,
    walAgentSocket: e.RECOVER_WAL_AGENT_SOCKET,
    prefetch: { parallel: e.RECOVER_PREFETCH_PARALLEL, ahead: e.RECOVER_PREFETCH_AHEAD },
    recoveryTimeoutSeconds: e.RECOVER_RECOVERY_TIMEOUT_S,
    verifyTables: parseVerifyTables(e.RECOVER_VERIFY_TABLES),
    logLevel: e.LOG_LEVEL,
    ...(e.RECOVER_CONTROL_URL ? { controlUrl: e.RECOVER_CONTROL_URL } : {}),
    pool: e.RECOVER_POOL,
    ...(e.RECOVER_RUNNER_ID ? { runnerId: e.RECOVER_RUNNER_ID } : {}),
    productionName: e.RECOVER_PRODUCTION_NAME,
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
  };
}
