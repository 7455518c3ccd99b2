import { z } from 'zod';
import { parseConnectionUrl, CONNECTION_URL_EXAMPLES } from './util/connection-url.js';
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

/** A postgres:// URL, checked when the configuration is read; the message never repeats the value (it may hold a password). */
const postgresUrl = (setting: string) =>
  z.string().min(1).superRefine((text, ctx) => {
    try {
      parseConnectionUrl(text, setting);
    } catch (error) {
      const reason = error instanceof RecoverError ? error.message.replace(`${setting} is `, '') : 'not a valid URL';
      ctx.addIssue({ code: 'custom', message: `${reason.replace(/\.$/, '')}; expected e.g. ${CONNECTION_URL_EXAMPLES}` });
    }
  });

const AZURE_CONNECTION_STRING_EXAMPLE = 'DefaultEndpointsProtocol=https;AccountName=ACCOUNT;AccountKey=KEY;EndpointSuffix=core.windows.net (or UseDevelopmentStorage=true for a local Azurite)';

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false; // the caller names the setting and shows an example
  }
}

/** Why an Azure Storage connection string cannot work, or null. Never quotes a value (keys are secrets). */
export function azureConnectionStringProblem(text: string): string | null {
  const pairs = new Map<string, string>();
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return 'every part must be Key=Value, separated by ";"';
    pairs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  if (pairs.get('usedevelopmentstorage')?.toLowerCase() === 'true') return null;
  const endpoint = pairs.get('blobendpoint');
  if (endpoint !== undefined && !isHttpUrl(endpoint)) return 'BlobEndpoint is not an http(s) URL';
  if (!pairs.get('accountkey') && !pairs.get('sharedaccesssignature')) return 'it needs AccountKey or SharedAccessSignature';
  if (!pairs.get('accountname') && !(endpoint && pairs.get('sharedaccesssignature'))) return 'it needs AccountName';
  const protocol = pairs.get('defaultendpointsprotocol');
  if (endpoint === undefined && protocol === undefined) return 'it needs DefaultEndpointsProtocol or BlobEndpoint';
  if (protocol !== undefined && !['http', 'https'].includes(protocol.toLowerCase())) return 'DefaultEndpointsProtocol must be https or http';
  return null;
}

const azureConnectionString = z.string().min(1).superRefine((text, ctx) => {
  const problem = azureConnectionStringProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid connection string: ${problem}; expected e.g. ${AZURE_CONNECTION_STRING_EXAMPLE}` });
});

const httpUrl = (example: string) =>
  z.string().refine(isHttpUrl, { message: `expected an http(s) URL, e.g. ${example}` });

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
  RECOVER_STORAGE_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  RECOVER_STORAGE_TIMEOUT_MS: positiveInt(30_000),
  RECOVER_PG_BIN: z.string().min(1).default('/usr/lib/postgresql/15/bin'),
  RECOVER_PG_OS_USER: z.string().min(1).default('postgres'),
  RECOVER_SOURCE_URL: postgresUrl('RECOVER_SOURCE_URL').optional(),
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
  RECOVER_CONTROL_URL: postgresUrl('RECOVER_CONTROL_URL').optional(),
  RECOVER_POOL: z.string().regex(/^[\w.-]{1,64}$/).default('default'),
  RECOVER_RUNNER_ID: z.string().min(1).optional(),
  // No default: it is the text people type to confirm destroying production (see requireProductionName).
  RECOVER_PRODUCTION_NAME: z.string().regex(/^[\w.-]{1,63}$/, 'expected a name of 1-63 letters, digits, _ . -, e.g. aiagent_prod').optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'expected a bot token starting with xoxb-').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'expected an app-level token starting with xapp-').optional(),
  SLACK_SOCKET_MODE: booleanFlag.default(false),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SLACK_API_URL: httpUrl('http://127.0.0.1:4000/api/').optional(),
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
  /** Unset unless RECOVER_STORAGE_DRIVER is given: opening storage then fails naming it (see openStorage). */
  driver?: 'local' | 'azure';
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
  /** What people call production; typed to confirm destructive plans. Required by the runner and the bot (requireProductionName). */
  productionName?: string;
  slack: SlackConfig;
  approval: ApprovalConfig;
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`).join('; ');
}

/** The production name, for the runner and the bot: never a silent default (people type it to confirm destruction). */
export function requireProductionName(config: Pick<Config, 'productionName'>): string {
  if (config.productionName) return config.productionName;
  throw new RecoverError('CONFIG_INVALID', 'Configuration is invalid: RECOVER_PRODUCTION_NAME is not set; the runner and the bot need it.', {
    hint: 'Set it to what your team calls the production database, e.g. RECOVER_PRODUCTION_NAME=aiagent_prod; people type it to confirm destructive restores.',
  });
}

/** The error for a command that needs storage when RECOVER_STORAGE_DRIVER is not set. */
export function storageDriverMissing(): RecoverError {
  return new RecoverError('CONFIG_INVALID', 'Configuration is invalid: RECOVER_STORAGE_DRIVER is not set; this command reads or writes backups and WAL.', {
    hint: 'Set RECOVER_STORAGE_DRIVER=azure (with RECOVER_AZURE_ACCOUNT, or RECOVER_AZURE_CONNECTION_STRING), or RECOVER_STORAGE_DRIVER=local with RECOVER_STORAGE_LOCAL_DIR.',
  });
}

/** The storage driver, for commands that read or write backups and WAL: never a silent local default. */
export function requireStorageDriver(storage: Pick<StorageConfig, 'driver'>): 'local' | 'azure' {
  if (storage.driver) return storage.driver;
  throw storageDriverMissing();
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
      ...(e.RECOVER_STORAGE_DRIVER ? { driver: e.RECOVER_STORAGE_DRIVER } : {}),
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
  };
}
