import { RecoverError } from '../errors.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EAI_AGAIN', 'REQUEST_SEND_ERROR']);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; cause?: unknown };
  if (typeof record.code === 'string') return record.code;
  return errorCode(record.cause);
}

/** Maps a driver error to a channel-ready RecoverError naming the store, never its secrets. */
export function storageFailure(description: string, operation: string, key: string, error: unknown): RecoverError {
  if (error instanceof RecoverError) return error;
  const code = errorCode(error);
  const status = (error as { statusCode?: number } | null)?.statusCode;
  const what = key ? `${operation} ${key}` : operation;
  if (code && UNREACHABLE_CODES.has(code)) {
    return new RecoverError('STORAGE_UNREACHABLE', `Blob storage is unreachable (${description}): could not ${what} (${code}).`, {
      hint: 'Check the storage endpoint, network path and firewall from the runner, then retry.',
      cause: error,
    });
  }
  // Azure immutable storage (a time-based retention policy, "WORM") or a legal hold: deletes and overwrites are refused until it ends.
  if ((status === 409 || status === 403) && code && /Immutable|LegalHold/i.test(code)) {
    return new RecoverError('STORAGE_ERROR', `Blob storage refused to ${what} (${description}): an immutability policy or legal hold protects it (HTTP ${status} ${code}).`, {
      hint: "Blobs under a container's time-based retention policy cannot be deleted until its period has passed: set the immutability period shorter than the backup retention (RECOVER_RETENTION_DAYS), or clear the legal hold.",
      cause: error,
    });
  }
  if (status === 401 || status === 403) {
    return new RecoverError('STORAGE_ERROR', `Blob storage refused access (${description}): could not ${what} (HTTP ${status}).`, {
      hint: "Check the runner's credential (managed identity role 'Storage Blob Data Contributor', or the account key).",
      cause: error,
    });
  }
  const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new RecoverError('STORAGE_ERROR', `Blob storage failed (${description}): could not ${what}: ${text}`, {
    hint: 'Retry; if it persists, check the storage account health.',
    cause: error,
  });
}
