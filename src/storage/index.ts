import type { StorageConfig } from '../config.js';
import type { Storage } from './blob-store.js';
import { AzureBlobStore, createBlobServiceClient } from './azure.js';
import { LocalDirectoryStore } from './local.js';

export * from './blob-store.js';

/** Builds the three container stores from config; the Azure SDK is only loaded when used. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  const { containers } = config;
  if (config.driver === 'local' || !config.azure) {
    return {
      backups: new LocalDirectoryStore(config.localDir, containers.backups),
      wal: new LocalDirectoryStore(config.localDir, containers.wal),
      dumps: new LocalDirectoryStore(config.localDir, containers.dumps),
      backupPrefix: config.backupPrefix,
      walPrefix: config.walPrefix,
    };
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
