import type { Readable } from 'node:stream';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { tokenCredential } from '../util/azure-credential.js';
import type { AzureAuth } from '../config.js';
import { BlobExistsError, BlobNotFoundError, type BlobInfo, type BlobStore, type PutOptions } from './blob-store.js';
import { storageFailure } from './errors.js';

export interface AzureStoreOptions {
  auth: AzureAuth;
  retries: number;
  timeoutMs: number;
}

/** Bounded retries: an unreachable store must fail in seconds, not the SDK's ~16 s default. */
export function pipelineOptions(retries: number, timeoutMs: number): StoragePipelineOptions {
  return {
    retryOptions: { maxTries: retries + 1, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: timeoutMs },
  };
}

export async function createBlobServiceClient(options: AzureStoreOptions): Promise<{ client: BlobServiceClient; account: string }> {
  const { auth } = options;
  const pipeline = pipelineOptions(options.retries, options.timeoutMs);
  if (auth.kind === 'connection-string') {
    const client = BlobServiceClient.fromConnectionString(auth.connectionString, pipeline);
    return { client, account: client.accountName };
  }
  if (auth.kind === 'shared-key') {
    const credential = new StorageSharedKeyCredential(auth.account, auth.accountKey);
    return { client: new BlobServiceClient(auth.endpoint, credential, pipeline), account: auth.account };
  }
  return { client: new BlobServiceClient(auth.endpoint, await tokenCredential(auth), pipeline), account: auth.account };
}

function isStatus(error: unknown, status: number): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: number }).statusCode === status;
}

function isContainerMissing(error: unknown): boolean {
  return isStatus(error, 404) && (error as { code?: string }).code === 'ContainerNotFound';
}

export class AzureBlobStore implements BlobStore {
  readonly description: string;
  private containerKnown = false;

  constructor(
    private readonly container: ContainerClient,
    account: string,
  ) {
    this.description = `Azure storage account ${account}, container ${container.containerName}`;
  }

  private fail(operation: string, key: string, error: unknown): never {
    throw storageFailure(this.description, operation, key, error);
  }

  async ensureContainer(): Promise<void> {
    try {
      await this.container.createIfNotExists();
      this.containerKnown = true;
    } catch (error) {
      this.fail('create container', '', error);
    }
  }

  async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<void> {
    const blob = this.container.getBlockBlobClient(key);
    const common = {
      metadata: options.metadata,
      abortSignal: options.signal,
      conditions: options.ifNotExists ? { ifNoneMatch: '*' } : undefined,
    };
    // A fresh account has no containers until someone creates them: the first WAL push
    // (before any base backup) creates its container instead of failing until a backup runs.
    if (!Buffer.isBuffer(body) && !this.containerKnown) await this.ensureContainer(); // a stream cannot be sent twice
    for (let attempt = 0; ; attempt++) {
      try {
        if (Buffer.isBuffer(body)) await blob.uploadData(body, { ...common, concurrency: 4 });
        else await blob.uploadStream(body, 8 * 1024 * 1024, 4, common);
        this.containerKnown = true;
        return;
      } catch (error) {
        if (options.ifNotExists && (isStatus(error, 409) || isStatus(error, 412))) throw new BlobExistsError(key);
        if (attempt === 0 && Buffer.isBuffer(body) && isContainerMissing(error)) {
          await this.ensureContainer();
          continue;
        }
        this.fail('upload', key, error);
      }
    }
  }

  async getStream(key: string, signal?: AbortSignal): Promise<Readable> {
    try {
      const response = await this.container.getBlobClient(key).download(0, undefined, { abortSignal: signal });
      if (!response.readableStreamBody) throw new Error('download returned no body');
      return response.readableStreamBody as Readable;
    } catch (error) {
      if (isStatus(error, 404)) throw new BlobNotFoundError(key);
      this.fail('download', key, error);
    }
  }

  async downloadToFile(key: string, filePath: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.container.getBlobClient(key).downloadToFile(filePath, 0, undefined, { abortSignal: signal });
    } catch (error) {
      if (isStatus(error, 404)) throw new BlobNotFoundError(key);
      this.fail('download', key, error);
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const props = await this.container.getBlobClient(key).getProperties();
      return {
        key,
        size: props.contentLength ?? 0,
        lastModified: props.lastModified ?? new Date(0),
        metadata: props.metadata ?? {},
      };
    } catch (error) {
      if (isStatus(error, 404)) return null;
      this.fail('read properties of', key, error);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    try {
      for await (const item of this.container.listBlobsFlat({ prefix, includeMetadata: true })) {
        yield {
          key: item.name,
          size: item.properties.contentLength ?? 0,
          lastModified: item.properties.lastModified,
          metadata: item.metadata ?? {},
        };
      }
    } catch (error) {
      if (isStatus(error, 404)) return; // container not created yet: nothing stored
      this.fail('list', prefix, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.container.getBlobClient(key).deleteIfExists();
    } catch (error) {
      this.fail('delete', key, error);
    }
  }
}
