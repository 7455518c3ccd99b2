import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultBaseParallel, loadConfig, parseVerifyTables, requireProductionName, requireStorageDriver } from '../../src/config.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { openStorage } from '../../src/storage/index.js';
import { listAll } from '../../src/storage/blob-store.js';
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
    // Neither is defaulted: the commands that need them fail naming the variable (below).
    expect(config.storage).not.toHaveProperty('driver');
    expect(config).not.toHaveProperty('productionName');
    expect(config).toMatchObject({
      storage: {
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
    });
    // Each process picks its own default (runner and bot info, the CLI's commands warn: src/cli/runtime.ts).
    expect(config).not.toHaveProperty('logLevel');
  });

  it('the recovery objectives: RPO 15 min and RTO 2 h by default, RECOVER_RPO_MINUTES / RECOVER_RTO_MINUTES from 1 min to a week', () => {
    expect(loadConfig({}).objectives).toEqual({ rpoSeconds: 900, rtoSeconds: 7200 });
    expect(loadConfig({ RECOVER_RPO_MINUTES: '5', RECOVER_RTO_MINUTES: '45' }).objectives).toEqual({ rpoSeconds: 300, rtoSeconds: 2700 });
    for (const bad of ['0', '-1', '2.5', 'abc', '10081']) {
      expect(() => loadConfig({ RECOVER_RPO_MINUTES: bad }), bad).toThrow(/RECOVER_RPO_MINUTES: /);
      expect(() => loadConfig({ RECOVER_RTO_MINUTES: bad }), bad).toThrow(/RECOVER_RTO_MINUTES: /);
    }
  });

  it('the runner lease: 60 s by default, RECOVER_LEASE_SECONDS from 15 s to a day', () => {
    expect(loadConfig({}).leaseSeconds).toBe(60);
    expect(loadConfig({ RECOVER_LEASE_SECONDS: '300' }).leaseSeconds).toBe(300);
    for (const bad of ['5', '0', '-1', 'abc', '90000']) expect(() => loadConfig({ RECOVER_LEASE_SECONDS: bad }), bad).toThrow(/RECOVER_LEASE_SECONDS/);
  });

  it('the health port: unset by default (or empty), else a port 0-65535', () => {
    expect(loadConfig({})).not.toHaveProperty('healthPort');
    expect(loadConfig({ RECOVER_HEALTH_PORT: '' })).not.toHaveProperty('healthPort');
    expect(loadConfig({ RECOVER_HEALTH_PORT: '3000' }).healthPort).toBe(3000);
    expect(loadConfig({ RECOVER_HEALTH_PORT: '0' }).healthPort).toBe(0);
    for (const bad of ['-1', '65536', 'http', '1.5']) expect(() => loadConfig({ RECOVER_HEALTH_PORT: bad }), bad).toThrow(/RECOVER_HEALTH_PORT/);
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

  it('base backup parts: 64 MiB, 4 at once and zstd by default, all configurable, neither size zero, no other codec', () => {
    expect(loadConfig({}).pg.baseTransfer).toEqual({ partBytes: 64 * 1024 * 1024, parallel: defaultBaseParallel(availableParallelism()), codec: 'zstd' });
    expect([1, 2, 8, 64].map(defaultBaseParallel)).toEqual([2, 2, 8, 16]);
    expect(loadConfig({ RECOVER_BASE_PART_MIB: '256', RECOVER_BASE_PARALLEL: '16', RECOVER_BASE_CODEC: 'lz4' }).pg.baseTransfer).toEqual({ partBytes: 256 * 1024 * 1024, parallel: 16, codec: 'lz4' });
    const error = refusal({ RECOVER_BASE_PART_MIB: '0', RECOVER_BASE_PARALLEL: '0', RECOVER_BASE_CODEC: 'gzip' });
    for (const key of ['RECOVER_BASE_PART_MIB', 'RECOVER_BASE_PARALLEL', 'RECOVER_BASE_CODEC']) expect(error.message).toContain(`${key}: `);
  });

  it('pg_dump workers of scheduled dumps and dump-backup: 2 by default, RECOVER_DUMP_JOBS from 1 to 16', () => {
    expect(loadConfig({}).dumpJobs).toBe(2);
    expect(loadConfig({ RECOVER_DUMP_JOBS: '6' }).dumpJobs).toBe(6);
    for (const bad of ['0', '17', 'two']) expect(refusal({ RECOVER_DUMP_JOBS: bad }).message).toContain('RECOVER_DUMP_JOBS: ');
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

  it('RECOVER_STATE_DIR: the CLI\'s records on its own disk, absolute, never inside production\'s data directory', () => {
    expect(loadConfig({}).stateDir).toBe('/var/lib/recover-bot/state');
    expect(loadConfig({ RECOVER_STATE_DIR: '/srv/recover/state', RECOVER_SOURCE_DATA_DIR: '/var/lib/postgresql/15/main' }).stateDir).toBe('/srv/recover/state');
    expect(loadConfig({ RECOVER_STATE_DIR: '/var/lib/postgresql/15/main-state', RECOVER_SOURCE_DATA_DIR: '/var/lib/postgresql/15/main' }).stateDir).toBe('/var/lib/postgresql/15/main-state');
    expect(refusal({ RECOVER_STATE_DIR: 'state' }).message).toContain('RECOVER_STATE_DIR: expected an absolute path');
    for (const inside of ['/var/lib/postgresql/15/main', '/var/lib/postgresql/15/main/recover', '/var/lib/postgresql/15/x/../main/state']) {
      expect(refusal({ RECOVER_STATE_DIR: inside, RECOVER_SOURCE_DATA_DIR: '/var/lib/postgresql/15/main/' }).message).toContain('RECOVER_STATE_DIR is inside RECOVER_SOURCE_DATA_DIR');
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

describe('settings that are never defaulted', () => {
  it('RECOVER_STORAGE_DRIVER: storage use fails naming it instead of reading an empty local directory', async () => {
    const config = loadConfig({});
    expect(() => requireStorageDriver(config.storage)).toThrow(/RECOVER_STORAGE_DRIVER is not set/);
    const storage = await openStorage(config.storage);
    for (const attempt of [listAll(storage.backups, 'daily/'), storage.wal.head('wal/x'), storage.wal.put('wal/x', Buffer.from('x')), storage.backups.ensureContainer()]) {
      const error = await attempt.then(() => null, (failure: unknown) => failure);
      expect(error).toBeInstanceOf(RecoverError);
      expect((error as RecoverError).code).toBe('CONFIG_INVALID');
      expect((error as RecoverError).message).toContain('RECOVER_STORAGE_DRIVER');
      expect((error as RecoverError).hint).toContain('RECOVER_STORAGE_DRIVER=azure');
    }
    expect(requireStorageDriver(loadConfig({ RECOVER_STORAGE_DRIVER: 'local' }).storage)).toBe('local');
  });

  it('RECOVER_PRODUCTION_NAME: required by the runner and the bot, no aiagent_prod default', () => {
    expect(() => requireProductionName(loadConfig({}))).toThrow(/RECOVER_PRODUCTION_NAME is not set/);
    expect(requireProductionName(loadConfig({ RECOVER_PRODUCTION_NAME: 'billing_prod' }))).toBe('billing_prod');
    expect(refusal({ RECOVER_PRODUCTION_NAME: "prod'; drop" }).message).toContain('RECOVER_PRODUCTION_NAME: ');
  });
});

describe('connection settings', () => {
  const secret = 'S3cr3t-P4ss';
  it.each([
    ['RECOVER_SOURCE_URL', `postgres://app:${secret}@db.internal:port/aiagent_prod`, 'port'],
    ['RECOVER_SOURCE_URL', `postgres://app:${secret}#x@db.internal/aiagent_prod`, '#'],
    ['RECOVER_SOURCE_URL', `host=db.internal password=${secret}`, 'postgres://'],
    ['RECOVER_SOURCE_URL', `postgres://app:${secret}@db.internal:99999/aiagent_prod`, 'port'],
    ['RECOVER_CONTROL_URL', `postgresql://recover:${secret}@control db/recover`, 'space'],
    ['RECOVER_CONTROL_URL', `mysql://recover:${secret}@control/recover`, 'postgres://'],
    ['RECOVER_AZURE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=${secret};BlobEndpoint=127.0.0.1:10000`, 'BlobEndpoint'],
    ['RECOVER_AZURE_CONNECTION_STRING', `AccountName=prod;AccountKey=${secret}`, 'DefaultEndpointsProtocol'],
    ['RECOVER_AZURE_CONNECTION_STRING', `${secret}`, 'Key=Value'],
    ['RECOVER_AZURE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=prod`, 'AccountKey'],
    ['RECOVER_AZURE_ENDPOINT', `prodbackups01.blob.core.windows.net`, 'https://ACCOUNT.blob.core.windows.net'],
  ])('%s: a malformed value is CONFIG_INVALID naming it, with an example, without echoing it (%s)', (key, value, reason) => {
    const error = refusal({ [key]: value });
    expect(error.message).toContain(`${key}: `);
    expect(error.message).toContain(reason);
    expect(error.message).toContain('e.g.');
    expect(error.message).not.toContain(secret);
    expect(error.forChannel()).not.toContain(secret);
    expect(error.message).not.toContain('Invalid URL');
  });

  it.each([
    'UseDevelopmentStorage=true',
    'DefaultEndpointsProtocol=https;AccountName=prodbackups01;AccountKey=a2V5PT0=;EndpointSuffix=core.windows.net',
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
    'BlobEndpoint=https://prodbackups01.blob.core.windows.net;SharedAccessSignature=sv=2022-11-02&sig=abc',
  ])('accepts the Azure connection string %s', (value) => {
    expect(loadConfig({ RECOVER_AZURE_CONNECTION_STRING: value }).storage.azure).toEqual({ kind: 'connection-string', connectionString: value });
  });

  // The README documents these forms for RECOVER_SOURCE_URL; WHATWG URL alone refuses the first.
  it.each([
    ['postgres://postgres@/postgres?host=/var/run/postgresql', { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'postgres' }],
    ['postgresql:///aiagent_prod?host=/var/run/postgresql&port=5433', { host: '/var/run/postgresql', port: 5433, user: 'postgres', database: 'aiagent_prod' }],
    ['postgres://%2Fvar%2Frun%2Fpostgresql/aiagent_prod', { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'aiagent_prod' }],
    ['postgres://app:p%40ss%3Aw0rd@db.internal:6432/aiagent_prod', { host: 'db.internal', port: 6432, user: 'app', database: 'aiagent_prod', password: 'p@ss:w0rd' }],
    ['postgres://app:p@ss@db.internal/aiagent_prod', { host: 'db.internal', port: 5432, user: 'app', database: 'aiagent_prod', password: 'p@ss' }],
    ['postgres://app@[::1]:5433/x', { host: '::1', port: 5433, user: 'app', database: 'x' }],
    ['postgres://db.internal', { host: 'db.internal', port: 5432, user: 'postgres', database: 'postgres' }],
  ])('parses %s', (url, expected) => {
    expect(parseConnectionUrl(url)).toEqual(expected);
    expect(loadConfig({ RECOVER_SOURCE_URL: url, RECOVER_CONTROL_URL: url }).source.url).toBe(url);
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

describe('Azure flexible server settings', () => {
  it('are read into azureDb and failover.provider, the credential shared with storage', () => {
    const config = loadConfig({
      RECOVER_FAILOVER_PROVIDER: 'azure',
      RECOVER_AZURE_SUBSCRIPTION_ID: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      RECOVER_AZURE_RESOURCE_GROUP: 'rg-prod',
      RECOVER_AZURE_PRIMARY_SERVER: 'pg-prod',
      RECOVER_AZURE_REPLICA_SERVER: 'pg-prod-replica',
      RECOVER_AZURE_DR_LOCATION: 'westus3',
      RECOVER_AZURE_CREDENTIAL: 'managed-identity',
    });
    expect(config.failover?.provider).toBe('azure');
    expect(config.azureDb).toEqual({
      subscriptionId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', resourceGroup: 'rg-prod', primaryServer: 'pg-prod', replicaServer: 'pg-prod-replica', drLocation: 'westus3',
      credential: 'managed-identity', armEndpoint: 'https://management.azure.com', pollSeconds: 15,
    });
    expect(loadConfig({}).failover?.provider).toBe('self-managed');
  });

  it.each([
    ['RECOVER_FAILOVER_PROVIDER', 'aws'],
    ['RECOVER_AZURE_SUBSCRIPTION_ID', 'my-subscription'],
    ['RECOVER_AZURE_REPLICA_SERVER', 'PG_Replica'],
    ['RECOVER_AZURE_DR_LOCATION', 'West US 3'],
  ])('%s=%s is refused naming it', (key, value) => {
    expect(refusal({ [key]: value }).message).toContain(`${key}: `);
  });
});
