/**
 * Settings that are optional in the environment but required by some commands: the error
 * names the variable and how to set it, instead of a silent default.
 */
import { RecoverError } from '../errors.js';
import type { Config, StorageConfig } from './types.js';

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
