/**
 * Cuts one tar stream (pg_basebackup --format tar --pgdata -) into self-contained tar parts
 * at entry boundaries, incrementally and without I/O: push() the bytes as they arrive, get
 * back the bytes of the current part and "cut" marks. Each part ends with the two 512-byte
 * zero blocks of an end of archive, so `tar --extract` reads every part on its own.
 *
 * A part is cut before an entry that would take it past `partBytes`; an entry larger than
 * that gets a part of its own (PostgreSQL's files are segments of at most 1 GiB). A pax
 * extended header ('x') and GNU long-name/long-link entries ('L', 'K') belong to the entry
 * that follows them and never end up in another part; pax global headers ('g') apply to
 * everything after them, so each later part starts with them again.
 */
export const BLOCK = 512;
const END_OF_PART = Buffer.alloc(2 * BLOCK);
/** A prefix header group (pax / long names) larger than this is not a pg_basebackup tar. */
const MAX_PREFIX_BYTES = 4 * 1024 * 1024;

export type SplitEvent = { type: 'data'; bytes: Buffer } | { type: 'cut' };

export class TarFormatError extends Error {}

const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** The size field: octal text, or GNU base-256 (high bit of the first byte) for large files. */
export function headerSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new TarFormatError('tar entry size too large');
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`bad tar size field ${JSON.stringify(text)}`);
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  const stored = parseInt(header.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === stored;
}

/** pax "size" overrides the header's size field (files over 8 GiB in POSIX tars). */
export function paxSize(data: Buffer): number | null {
  let offset = 0;
  let size: number | null = null;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = parseInt(data.subarray(offset, space).toString('latin1'), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'size') size = Number(record.slice(eq + 1));
    offset += length;
  }
  return size;
}

/** Typeflags whose entries carry no data blocks (hard link, symlink, devices, directory, fifo). */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
const PREFIX_TYPES = new Set(['x', 'L', 'K']);

export class TarSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of entry data (with padding) still to pass through before the next header. */
  private dataLeft = 0;
  /** Where data goes: the part, or a header group waiting for its entry ('x', 'L', 'K') or a global header ('g'). */
  private collecting: 'prefix' | 'global' | null = null;
  private prefix: Buffer[] = [];
  private prefixBytes = 0;
  private global: Buffer[] = [];
  private globals: Buffer[] = [];
  private paxSizeOverride: number | null = null;
  private partBytes = 0;
  private ended = false;
  private finished = false;

  constructor(private readonly targetPartBytes: number) {}

  push(chunk: Buffer): SplitEvent[] {
    const events: SplitEvent[] = [];
    let rest = chunk;
    // After the end-of-archive block only padding may follow; it is not copied anywhere.
    while (rest.length > 0 && !this.ended) {
      if (this.dataLeft > 0) {
        const piece = rest.subarray(0, Math.min(this.dataLeft, rest.length));
        rest = rest.subarray(piece.length);
        this.dataLeft -= piece.length;
        if (this.collecting) this.collect(piece);
        else this.emit(events, piece);
        if (this.collecting && this.dataLeft === 0) this.groupDone(events);
        continue;
      }
      const piece = rest.subarray(0, Math.min(BLOCK - this.pendingBytes, rest.length));
      rest = rest.subarray(piece.length);
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      if (this.pendingBytes < BLOCK) continue;
      const header = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.header(events, header);
    }
    return events;
  }

  /** The input is over: close the last part. */
  end(): SplitEvent[] {
    if (!this.ended) {
      if (this.dataLeft > 0 || this.pendingBytes > 0 || this.prefixBytes > 0) throw new TarFormatError('the tar stream ended in the middle of an entry (truncated backup)');
      throw new TarFormatError('the tar stream ended without its end-of-archive blocks (truncated backup)');
    }
    if (this.finished) return [];
    this.finished = true;
    return this.partBytes > 0 ? [{ type: 'data', bytes: END_OF_PART }, { type: 'cut' }] : [];
  }

  private header(events: SplitEvent[], header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      if (this.prefixBytes > 0) throw new TarFormatError('end of archive right after a pax or long-name header');
      this.ended = true;
      return;
    }
    if (!checksumMatches(header)) throw new TarFormatError('tar header checksum mismatch (not a tar stream, or corrupted)');
    const type = String.fromCharCode(header[156]!);
    const size = headerSize(header);
    if (type === 'g' || PREFIX_TYPES.has(type)) {
      if (type === 'g' && this.prefixBytes > 0) throw new TarFormatError('a pax global header inside an entry group');
      this.collecting = type === 'g' ? 'global' : 'prefix';
      this.collect(header);
      this.dataLeft = padded(size);
      if (type === 'x') this.paxSizeOverride = null;
      if (this.dataLeft === 0) this.groupDone(events);
      return;
    }
    if (type === 'S') throw new TarFormatError('old GNU sparse entries are not supported');
    const dataBytes = NO_DATA.has(type) ? 0 : padded(this.paxSizeOverride ?? size);
    this.paxSizeOverride = null;
    const entryBytes = this.prefixBytes + BLOCK + dataBytes;
    if (this.partBytes > 0 && this.partBytes + entryBytes + END_OF_PART.length > this.targetPartBytes) this.cut(events);
    for (const piece of this.prefix) this.emit(events, piece);
    this.prefix = [];
    this.prefixBytes = 0;
    this.emit(events, header);
    this.dataLeft = dataBytes;
  }

  private collect(piece: Buffer): void {
    const copy = Buffer.from(piece); // kept past the caller's chunk
    if (this.collecting === 'global') this.global.push(copy);
    else this.prefix.push(copy);
    this.prefixBytes += this.collecting === 'prefix' ? copy.length : 0;
    if (this.prefixBytes > MAX_PREFIX_BYTES || this.global.length > 8192) throw new TarFormatError('pax / long-name headers over 4 MiB: not a pg_basebackup tar');
  }

  private groupDone(events: SplitEvent[]): void {
    if (this.collecting === 'global') {
      const group = Buffer.concat(this.global);
      this.global = [];
      this.globals.push(group);
      // In force from here on: in the open part now, and at the start of every later part.
      if (this.partBytes > 0) this.emit(events, group);
    } else {
      const group = Buffer.concat(this.prefix);
      const last = lastHeaderOffset(group);
      if (group[last + 156] === 0x78 /* 'x' */) {
        const size = paxSize(group.subarray(last + BLOCK, last + BLOCK + headerSize(group.subarray(last, last + BLOCK))));
        if (size !== null) this.paxSizeOverride = size;
      }
    }
    this.collecting = null;
  }

  private emit(events: SplitEvent[], bytes: Buffer): void {
    if (this.partBytes === 0) {
      for (const global of this.globals) {
        events.push({ type: 'data', bytes: global });
        this.partBytes += global.length;
      }
    }
    events.push({ type: 'data', bytes });
    this.partBytes += bytes.length;
  }

  private cut(events: SplitEvent[]): void {
    events.push({ type: 'data', bytes: END_OF_PART }, { type: 'cut' });
    this.partBytes = 0;
  }
}

/** Where the last header of a prefix group starts (a group is headers, each with padded data). */
function lastHeaderOffset(group: Buffer): number {
  let offset = 0;
  let last = 0;
  while (offset < group.length) {
    last = offset;
    offset += BLOCK + padded(headerSize(group.subarray(offset, offset + BLOCK)));
  }
  return last;
}
