import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK, headerSize, TarFormatError, TarSplitter, type SplitEvent } from '../../../../src/engine/backup-parts/tar-split.js';

const KiB = 1024;
let root: string;

/** A tree with what a data directory has and what tar formats stress: sizes around block and part edges, long names, empties, links. */
async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'base', '5'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'empty_dir'), { mode: 0o700 });
  const sizes = [0, 1, 511, 512, 513, 8 * KiB, 63 * KiB, 64 * KiB, 65 * KiB, 200 * KiB + 3];
  for (const [i, size] of sizes.entries()) await writeFile(join(dir, 'base', '5', `file-${i}`), randomBytes(size), { mode: 0o600 });
  await writeFile(join(dir, 'pg_wal', 'big-over-a-part'), randomBytes(300 * KiB + 7), { mode: 0o600 });
  const longDir = join(dir, 'd'.repeat(90), 'e'.repeat(90));
  await mkdir(longDir, { recursive: true, mode: 0o700 });
  await writeFile(join(longDir, 'f'.repeat(120)), randomBytes(70 * KiB));
  await writeFile(join(dir, 'PG_VERSION'), '15\n');
  await symlink('base/5/file-3', join(dir, 'a-symlink'));
}

async function describeTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const rel = join(prefix, name);
    const stat = await lstat(join(dir, rel));
    const mode = (stat.mode & 0o777).toString(8);
    if (stat.isSymbolicLink()) out[rel] = `link ${await readlink(join(dir, rel))}`;
    else if (stat.isDirectory()) {
      out[rel] = `dir ${mode}`;
      Object.assign(out, await describeTree(dir, rel));
    } else out[rel] = `file ${mode} ${stat.size} ${createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')}`;
  }
  return out;
}

/** Splits `tar` fed in chunks of `chunk` bytes; returns each part's bytes. */
function split(tar: Buffer, partBytes: number, chunk: number): Buffer[] {
  const splitter = new TarSplitter(partBytes);
  const parts: Buffer[] = [];
  let current: Buffer[] = [];
  const take = (events: SplitEvent[]) => {
    for (const event of events) {
      if (event.type === 'data') current.push(Buffer.from(event.bytes));
      else {
        parts.push(Buffer.concat(current));
        current = [];
      }
    }
  };
  for (let offset = 0; offset < tar.length; offset += chunk) take(splitter.push(tar.subarray(offset, offset + chunk)));
  take(splitter.end());
  expect(current).toEqual([]);
  return parts;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tar-split-'));
  await makeTree(join(root, 'src'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('TarSplitter on archives made by tar -c', () => {
  it.each([
    ['gnu', 64 * KiB, 4096],
    ['gnu', 64 * KiB, 777],
    ['pax', 64 * KiB, 100_000],
    ['ustar-safe gnu, one part', 1024 * 1024 * 1024, 65_536],
    ['pax', 1, 512],
  ])('%s format, parts of %i bytes, fed in chunks of %i: every part extracts alone, together the tree', async (format, partBytes, chunk) => {
    const tarFormat = format.startsWith('pax') ? 'pax' : 'gnu';
    const tar = execFileSync('tar', ['--create', `--format=${tarFormat}`, '--file', '-', '--directory', join(root, 'src'), '.'], { maxBuffer: 64 * 1024 * 1024 });
    const parts = split(tar, partBytes, chunk);
    const out = await mkdtemp(join(root, 'out-'));
    for (const part of parts) {
      expect(part.length % BLOCK).toBe(0);
      expect(part.subarray(part.length - 2 * BLOCK).every((byte) => byte === 0)).toBe(true);
      execFileSync('tar', ['--extract', '--file', '-', '--directory', out], { input: part });
    }
    expect(await describeTree(out)).toEqual(await describeTree(join(root, 'src')));
    if (partBytes === 64 * KiB) {
      expect(parts.length).toBeGreaterThan(5);
      // a part outgrows its target only to hold one entry larger than the target
      for (const part of parts) if (part.length > partBytes) expect(listEntries(part).filter((e) => e.size > 0).length).toBe(1);
    }
    if (partBytes > 1024 * 1024) expect(parts).toHaveLength(1);
  });

  it('keeps a long name with its entry when the cut falls right before it', async () => {
    const tar = execFileSync('tar', ['--create', '--format=gnu', '--file', '-', '--directory', join(root, 'src'), '.']);
    for (const partBytes of [2 * KiB, 75 * KiB]) {
      for (const part of split(tar, partBytes, 512)) {
        const names = execFileSync('tar', ['--list', '--file', '-'], { input: part }).toString();
        expect(names).not.toMatch(/LongLink/);
      }
    }
  });

  it('refuses a truncated stream, a stream without its end blocks, and garbage', () => {
    const tar = execFileSync('tar', ['--create', '--format=gnu', '--file', '-', '--directory', join(root, 'src'), '.']);
    expect(() => split(tar.subarray(0, 5000), 64 * KiB, 4096)).toThrow(TarFormatError);
    const withoutEnd = tar.subarray(0, tar.length - 10 * KiB);
    expect(() => split(withoutEnd.subarray(0, findEnd(tar)), 64 * KiB, 4096)).toThrow(/end-of-archive|middle of an entry/);
    expect(() => split(randomBytes(4096), 64 * KiB, 4096)).toThrow(/checksum/);
  });
});

describe('headerSize', () => {
  it.each<[string, Buffer, number]>([
    ['octal', sizeField(Buffer.from('00000001750\0')), 1000],
    ['octal with spaces', sizeField(Buffer.from('     1750 \0\0')), 1000],
    ['empty', sizeField(Buffer.alloc(12)), 0],
    ['base-256 (GNU, over 8 GiB)', sizeField(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0])), 8 * 1024 ** 3],
  ])('%s', (_name, header, expected) => {
    expect(headerSize(header)).toBe(expected);
  });
});

function sizeField(field: Buffer): Buffer {
  const header = Buffer.alloc(BLOCK);
  field.copy(header, 124);
  return header;
}

/** Offset of the end-of-archive zero blocks. */
function findEnd(tar: Buffer): number {
  let offset = 0;
  while (!tar.subarray(offset, offset + BLOCK).every((byte) => byte === 0)) {
    const type = String.fromCharCode(tar[offset + 156]!);
    offset += BLOCK + ('123456'.includes(type) ? 0 : Math.ceil(headerSize(tar.subarray(offset, offset + BLOCK)) / BLOCK) * BLOCK);
  }
  return offset;
}

function listEntries(part: Buffer): { type: string; size: number }[] {
  const entries: { type: string; size: number }[] = [];
  let offset = 0;
  while (!part.subarray(offset, offset + BLOCK).every((byte) => byte === 0)) {
    const type = String.fromCharCode(part[offset + 156]!);
    const size = '123456'.includes(type) ? 0 : headerSize(part.subarray(offset, offset + BLOCK));
    if (!'xgLK'.includes(type)) entries.push({ type, size });
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
