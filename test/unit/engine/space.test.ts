import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeSpace, restoreBytesNeeded, spaceRefusal } from '../../../src/engine/space.js';
import { exitCodeFor } from '../../../src/errors.js';

describe('space for a restore', () => {
  it('needs the data and WAL plus a tenth', () => {
    expect(restoreBytesNeeded(10e9, 2e9)).toBe(13.2e9);
    expect(restoreBytesNeeded(0, 0)).toBe(0);
  });

  it.each([
    [null, 'side', null],
    [{ path: '/r', freeBytes: 20e9 }, 'side', null],
    [{ path: '/r', freeBytes: 13.2e9 }, 'side', null],
    [{ path: '/r', freeBytes: 1e9 }, 'side', /the restore root \/r has 1.0 GB free/],
    [{ path: '/var/lib/postgresql/15', freeBytes: 1e9 }, 'in-place', /beside production's data directory \(kept until the restore is verified\)/],
  ] as const)('%j %s', (space, where, refused) => {
    const error = spaceRefusal(space, 13.2e9, where);
    if (!refused) return expect(error).toBeNull();
    expect(error!.code).toBe('NO_SPACE');
    expect(error!.message).toMatch(refused);
    expect(error!.message).toContain('needs about 13.2 GB');
    expect(exitCodeFor(error!.code)).toBe(3);
  });

  it('measures the nearest existing directory for one not made yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'space-'));
    try {
      const space = await freeSpace(join(dir, 'not', 'yet', 'made'));
      expect(space.path).toBe(join(dir, 'not', 'yet', 'made'));
      expect(space.freeBytes).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
