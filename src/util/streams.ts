import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';

export async function readStreamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/**
 * A pass-through that hashes (sha256) and counts what flows through it, calling `onProgress`
 * with the running byte count every `everyBytes` — how backups and restores report progress
 * and check their files without a second read.
 */
export function hashingCounter(onProgress: (bytes: number) => void, everyBytes: number) {
  const hash = createHash('sha256');
  let bytes = 0;
  let lastReport = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes - lastReport >= everyBytes) {
        lastReport = bytes;
        onProgress(bytes);
      }
      callback(null, chunk);
    },
  });
  return { stream, bytes: () => bytes, sha256: () => hash.digest('hex') };
}
