import { describe, expect, it } from 'vitest';
import { loadConfig, parseVerifyTables } from '../../src/config.js';
import { RecoverError } from '../../src/errors.js';

function refusal(env: Record<string, string | undefined>): RecoverError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(RecoverError);
    expect((error as RecoverError).code).toBe('CONFIG_INVALID');
    return error as RecoverError;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadConfig', () => {
  it('defaults for an empty environment', () => {
    // toMatchObject: the Slack/approval/control keys are still being added by others.
    const config = loadConfig({});
    expect(config.storage).not.toHaveProperty('azure');
    expect(config).toMatchObject({
      storage: {
        driver: 'local',
        localDir: '/var/lib/recover-bot/storage',
        containers: { backups: 'postgresql-full', wal: 'postgresql-wal-archive', dumps: 'postgresql-dumps' },
        backupPrefix: 'daily/',
        walPrefix: 'wal/',
        retries: 3,
        timeoutMs: 30_000,
      },
      pg: { bin: '/usr/lib/postgresql/15/bin', osUser: 'postgres' },
      source: { stop: { method: 'pg_ctl' } },
      restoreRoot: '/var/lib/recover-bot/restores',
      walAgentSocket: '/run/recover-bot/wal-agent.sock',
      prefetch: { parallel: 8, ahead: 64 },
      recoveryTimeoutSeconds: 14_400,
      verifyTables: [],
      logLevel: 'info',
    });
  });

  it('reads numbers, prefixes and sources', () => {
    const config = loadConfig({
      RECOVER_PREFETCH_PARALLEL: '16',
      RECOVER_PREFETCH_AHEAD: '128',
      RECOVER_STORAGE_RETRIES: '0',
      RECOVER_RECOVERY_TIMEOUT_S: '600',
      RECOVER_WAL_PREFIX: '',
      RECOVER_SOURCE_URL: 'postgres://postgres@/postgres?host=/var/run/postgresql',
      RECOVER_SOURCE_DATA_DIR: '/var/lib/postgresql/15/main',
      LOG_LEVEL: 'debug',
      UNRELATED: 'ignored',
    });
    expect(config.prefetch).toEqual({ parallel: 16, ahead: 128 });
    expect(config.storage.retries).toBe(0);
    expect(config.storage.walPrefix).toBe('');
    expect(config.recoveryTimeoutSeconds).toBe(600);
    expect(config.source).toEqual({ url: 'postgres://postgres@/postgres?host=/var/run/postgresql', dataDir: '/var/lib/postgresql/15/main', stop: { method: 'pg_ctl' } });
    expect(config.logLevel).toBe('debug');
  });

  it('names every bad key in one message', () => {
    const error = refusal({ LOG_LEVEL: 'verbose', RECOVER_PREFETCH_PARALLEL: '0', RECOVER_STORAGE_RETRIES: '11', RECOVER_STORAGE_DRIVER: 's3' });
    expect(error.message).toMatch(/^Configuration is invalid: /);
    for (const key of ['LOG_LEVEL', 'RECOVER_PREFETCH_PARALLEL', 'RECOVER_STORAGE_RETRIES', 'RECOVER_STORAGE_DRIVER']) expect(error.message).toContain(`${key}: `);
    expect(error.message.split('; ')).toHaveLength(4);
    expect(error.hint).toContain('Configuration');
  });

  it.each([
    ['RECOVER_PREFETCH_PARALLEL', 'eight'],
    ['RECOVER_PREFETCH_PARALLEL', '2.5'],
    ['RECOVER_PREFETCH_AHEAD', '-1'],
    ['RECOVER_STORAGE_TIMEOUT_MS', '0'],
    ['RECOVER_AZURE_ACCOUNT', 'My_Account'],
    ['RECOVER_AZURE_ACCOUNT', 'ab'],
    ['RECOVER_AZURE_ENDPOINT', 'not a url'],
    ['RECOVER_AZURE_CREDENTIAL', 'password'],
    ['RECOVER_CONTAINER_WAL', 'wa'],
    ['RECOVER_SOURCE_STOP', 'systemd'],
    ['RECOVER_PG_BIN', ''],
  ])('%s=%j is named', (key, value) => {
    expect(refusal({ [key]: value }).message).toContain(`${key}: `);
  });

  it('the azure driver needs an account or a connection string', () => {
    const error = refusal({ RECOVER_STORAGE_DRIVER: 'azure' });
    expect(error.message).toContain('RECOVER_STORAGE_DRIVER=azure needs RECOVER_AZURE_CONNECTION_STRING or RECOVER_AZURE_ACCOUNT');
    expect(error.hint).toContain('RECOVER_AZURE_ACCOUNT');
  });

  it('does not echo a bad secret value', () => {
    const error = refusal({ RECOVER_AZURE_ACCOUNT: 'SecretLookingValue123', RECOVER_AZURE_ACCOUNT_KEY: 'k' });
    expect(error.message).not.toContain('SecretLookingValue123');
  });

  it.each([
    [
      'connection string wins',
      { RECOVER_AZURE_CONNECTION_STRING: 'UseDevelopmentStorage=true', RECOVER_AZURE_ACCOUNT: 'acct', RECOVER_AZURE_ACCOUNT_KEY: 'k' },
      { kind: 'connection-string', connectionString: 'UseDevelopmentStorage=true' },
    ],
    [
      'shared key with the default endpoint',
      { RECOVER_AZURE_ACCOUNT: 'prodbackups01', RECOVER_AZURE_ACCOUNT_KEY: 'a2V5' },
      { kind: 'shared-key', account: 'prodbackups01', accountKey: 'a2V5', endpoint: 'https://prodbackups01.blob.core.windows.net' },
    ],
    [
      'token with the default credential',
      { RECOVER_AZURE_ACCOUNT: 'prodbackups01' },
      { kind: 'token', account: 'prodbackups01', endpoint: 'https://prodbackups01.blob.core.windows.net', credential: 'default' },
    ],
    [
      'managed identity with a client id and a custom endpoint',
      {
        RECOVER_AZURE_ACCOUNT: 'prodbackups01',
        RECOVER_AZURE_CREDENTIAL: 'managed-identity',
        RECOVER_AZURE_MANAGED_IDENTITY_CLIENT_ID: '0000-1111',
        RECOVER_AZURE_ENDPOINT: 'https://prodbackups01.privatelink.blob.core.windows.net',
      },
      { kind: 'token', account: 'prodbackups01', endpoint: 'https://prodbackups01.privatelink.blob.core.windows.net', credential: 'managed-identity', managedIdentityClientId: '0000-1111' },
    ],
  ])('azure auth: %s', (_name, env, auth) => {
    const config = loadConfig({ RECOVER_STORAGE_DRIVER: 'azure', ...env });
    expect(config.storage.driver).toBe('azure');
    expect(config.storage.azure).toEqual(auth);
  });

  it('hook stop needs both commands', () => {
    const stop = '["systemctl","stop","postgresql@15-main"]';
    for (const env of [{}, { RECOVER_SOURCE_STOP_COMMAND: stop }, { RECOVER_SOURCE_START_COMMAND: stop }]) {
      const error = refusal({ RECOVER_SOURCE_STOP: 'hook', ...env });
      expect(error.message).toContain('RECOVER_SOURCE_STOP=hook needs RECOVER_SOURCE_STOP_COMMAND and RECOVER_SOURCE_START_COMMAND');
    }
  });

  it('parses hook commands as JSON argv', () => {
    const config = loadConfig({
      RECOVER_SOURCE_STOP: 'hook',
      RECOVER_SOURCE_STOP_COMMAND: '["kubectl","scale","deploy/postgres","--replicas=0"]',
      RECOVER_SOURCE_START_COMMAND: ' ["systemctl", "start", "postgresql@15 main"] ',
    });
    expect(config.source.stop).toEqual({
      method: 'hook',
      stopCommand: ['kubectl', 'scale', 'deploy/postgres', '--replicas=0'],
      startCommand: ['systemctl', 'start', 'postgresql@15 main'],
    });
  });

  it.each(['[]', 'systemctl stop postgresql', '["a", 1]', '"systemctl"', '{"cmd":"x"}', '[null]', '["a",'])('refuses the argv %j', (value) => {
    const error = refusal({ RECOVER_SOURCE_STOP_COMMAND: value });
    expect(error.message).toContain('RECOVER_SOURCE_STOP_COMMAND: expected a JSON array of strings');
  });

  it('parses RECOVER_VERIFY_TABLES', () => {
    expect(loadConfig({ RECOVER_VERIFY_TABLES: 'public.orders:created_at, users' }).verifyTables).toEqual([
      { table: 'public.orders', timestampColumn: 'created_at' },
      { table: 'users' },
    ]);
  });
});

describe('parseVerifyTables', () => {
  it.each([
    ['', []],
    [' , ,', []],
    ['orders', [{ table: 'orders' }]],
    ['orders:', [{ table: 'orders' }]],
    ['public.orders:created_at', [{ table: 'public.orders', timestampColumn: 'created_at' }]],
    [' a:x ,b, c.d:y ', [{ table: 'a', timestampColumn: 'x' }, { table: 'b' }, { table: 'c.d', timestampColumn: 'y' }]],
  ])('%j', (text, expected) => {
    expect(parseVerifyTables(text)).toEqual(expected);
  });
});
