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
  };
}
