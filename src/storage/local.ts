import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { BlobExistsError, BlobNotFoundError, type BlobInfo, type BlobStore, type PutOptions } from './blob-store.js';

const META_SUFFIX = '.meta.json';

/** A container as a directory: `<root>/<container>/<key>`, metadata in a sidecar file. */
export class LocalDirectoryStore implements BlobStore {
  readonly description: string;
  private readonly dir: string;

  constructor(root: string, container: string) {
    this.dir = join(root, container);
    this.description = `local directory ${this.dir}`;
  }

  private pathOf(key: string): string {
    const path = join(this.dir, key);
    if (!path.startsWith(this.dir + sep)) throw new Error(`blob key ${key} escapes the container`);
    return path;
  }

  async ensureContainer(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async put(key: string, body: Buffer | Readable, options: PutOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${randomUUID()}`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(temp), { signal: options.signal });
      await writeFile(temp + META_SUFFIX, JSON.stringify(options.metadata ?? {}));
      if (options.ifNotExists) {
        // link() fails with EEXIST atomically, unlike an exists-then-rename check.
        try {
          await link(temp, path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BlobExistsError(key);
          throw error;
        }
        await copyFile(temp + META_SUFFIX, path + META_SUFFIX);
      } else {
        await copyFile(temp + META_SUFFIX, path + META_SUFFIX);
        await copyFile(temp, path);
      }
    } finally {
      await rm(temp, { force: true });
      await rm(temp + META_SUFFIX, { force: true });
    }
  }

  async getStream(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    await this.statOrThrow(key, path);
    return createReadStream(path);
  }

  async downloadToFile(key: string, filePath: string, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(key);
    await this.statOrThrow(key, path);
    await pipeline(createReadStream(path), createWriteStream(filePath), { signal });
  }

  private async statOrThrow(key: string, path: string) {
    try {
      return await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return { key, size: info.size, lastModified: info.mtime, metadata: await this.readMeta(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private async readMeta(path: string): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(path + META_SUFFIX, 'utf8')) as Record<string, string>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith(META_SUFFIX) && !entry.name.includes('.tmp-')) files.push(full);
      }
    };
    await walk(this.dir);
    const keys = files.map((file) => relative(this.dir, file).split(sep).join('/')).filter((key) => key.startsWith(prefix));
    keys.sort();
    for (const key of keys) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rm(path + META_SUFFIX, { force: true });
  }
}
