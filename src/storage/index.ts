import { storageDriverMissing, type StorageConfig } from '../config.js';
import { RecoverError } from '../errors.js';
import type { BlobStore, Storage } from './blob-store.js';
import { AzureBlobStore, createBlobServiceClient } from './azure.js';
import { LocalDirectoryStore } from './local.js';

export * from './blob-store.js';

/**
 * Stands in for storage when RECOVER_STORAGE_DRIVER is not set: commands that never touch
 * storage (the bot, `audit verify`) run; the first one that does fails naming the variable,
 * instead of silently reading an empty local directory and reporting "no backups".
 */
class UnconfiguredStore implements BlobStore {
  readonly description = 'no storage (RECOVER_STORAGE_DRIVER is not set)';
  ensureContainer(): Promise<void> {
    return Promise.reject(storageDriverMissing());
  }
  put(): Promise<void> {
    return Promise.reject(storageDriverMissing());
  }
  getStream(): Promise<never> {
    return Promise.reject(storageDriverMissing());
  }
  downloadToFile(): Promise<void> {
    return Promise.reject(storageDriverMissing());
  }
  head(): Promise<null> {
    return Promise.reject(storageDriverMissing());
  }
  list(): AsyncIterable<never> {
    return {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(storageDriverMissing()) }),
    };
  }
  delete(): Promise<void> {
    return Promise.reject(storageDriverMissing());
  }
}

/** Builds the three container stores from config; the Azure SDK is only loaded when used. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  const { containers } = config;
  if (!config.driver) {
    const store = new UnconfiguredStore();
    return { backups: store, wal: store, dumps: store, backupPrefix: config.backupPrefix, walPrefix: config.walPrefix };
  }
  if (config.driver === 'local') {
    return {
      backups: new LocalDirectoryStore(config.localDir, containers.backups),
      wal: new LocalDirectoryStore(config.localDir, containers.wal),
      dumps: new LocalDirectoryStore(config.localDir, containers.dumps),
      backupPrefix: config.backupPrefix,
      walPrefix: config.walPrefix,
    };
  }
  if (!config.azure) {
    throw new RecoverError('CONFIG_INVALID', 'Configuration is invalid: RECOVER_STORAGE_DRIVER=azure needs RECOVER_AZURE_CONNECTION_STRING or RECOVER_AZURE_ACCOUNT', {
      hint: 'Set RECOVER_AZURE_ACCOUNT (uses DefaultAzureCredential) or a connection string for Azurite.',
    });
  }
  const { client, account } = await createBlobServiceClient({ auth: config.azure, retries: config.retries, timeoutMs: config.timeoutMs });
  return {
    backups: new AzureBlobStore(client.getContainerClient(containers.backups), account),
    wal: new AzureBlobStore(client.getContainerClient(containers.wal), account),
    dumps: new AzureBlobStore(client.getContainerClient(containers.dumps), account),
    backupPrefix: config.backupPrefix,
    walPrefix: config.walPrefix,
  };
}
