/**
 * LZ4 block decoding in JavaScript, into a Buffer Node allocates (and V8 counts).
 *
 * Why not lz4-napi's `uncompress`: its result is native memory the garbage collector does
 * not see, so a restore that unpacks hundreds of 16 MiB segments while allocating little on
 * the JS heap never triggers a collection — measured here: 200 segments, 3.6 GB RSS, and a
 * 242-segment restore peaking at 4.4 GB. A Buffer from `Buffer.allocUnsafe` is reported to
 * V8 as external memory, so the collector frees unpacked segments once they are spooled and
 * the runner's memory stays bounded by the prefetch depth, whatever the WAL's length.
 *
 * The format (lz4_Block_format.md): sequences of a token (high nibble literal length, low
 * nibble match length − 4, 15 meaning "more bytes follow, each adding up to 255"), the
 * literals, a 2-byte little-endian offset back into the output, and the match. The last
 * sequence has literals only.
 */

export class Lz4BlockError extends Error {}

/** PostgreSQL's largest WAL segment: a size header above it is damage, not a segment. */
const MAX_OUTPUT = 1024 * 1024 * 1024;

export function decodeLz4Block(input: Uint8Array, outputSize: number): Buffer {
  if (!Number.isInteger(outputSize) || outputSize < 0 || outputSize > MAX_OUTPUT) throw new Lz4BlockError(`size header ${outputSize} is not a WAL file's size`);
  const out = Buffer.allocUnsafe(outputSize);
  const source = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const end = input.length;
  let ip = 0;
  let op = 0;
  while (ip < end) {
    const token = input[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new Lz4BlockError('truncated literal length');
        byte = input[ip++]!;
        literals += byte;
      } while (byte === 255);
    }
    if (ip + literals > end || op + literals > outputSize) throw new Lz4BlockError('literals run past the end of the block');
    if (literals > 16) {
      source.copy(out, op, ip, ip + literals);
    } else {
      for (let i = 0; i < literals; i++) out[op + i] = input[ip + i]!;
    }
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence: literals only
    if (ip + 2 > end) throw new Lz4BlockError('truncated match offset');
    const offset = input[ip]! | (input[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4BlockError(`match offset ${offset} points before the start of the output`);
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new Lz4BlockError('truncated match length');
        byte = input[ip++]!;
        length += byte;
      } while (byte === 255);
    }
    if (op + length > outputSize) throw new Lz4BlockError('match runs past the expected size');
    const from = op - offset;
    if (offset >= length && length > 32) {
      out.copyWithin(op, from, from + length);
      op += length;
    } else if (offset >= length) {
      for (let i = 0; i < length; i++) out[op + i] = out[from + i]!;
      op += length;
    } else {
      // Overlapping match (a repeated pattern): copy forward byte by byte, or in whole
      // periods, each of which reads bytes already written.
      const stop = op + length;
      while (op < stop) {
        const chunk = Math.min(op - from, stop - op);
        if (chunk > 32) out.copyWithin(op, from, from + chunk);
        else for (let i = 0; i < chunk; i++) out[op + i] = out[from + i]!;
        op += chunk;
      }
    }
  }
  if (op !== outputSize) throw new Lz4BlockError(`unpacked to ${op} bytes, expected ${outputSize}`);
  return out;
}
