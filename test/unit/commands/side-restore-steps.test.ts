import { describe, expect, it } from 'vitest';
import type { RestoreSelection } from '../../../src/catalog/select-restore.js';
import { sideRestorePlanSteps } from '../../../commands/schemas.js';

const selection = {
  backup: { id: 'b1', files: [{ name: 'base/part-00001.tar.zst', bytes: 400_000_000, sha256: 'x' }], startLsn: '0/3000028', walSegmentSize: 16_777_216 },
  requiredSegments: ['000000010000000000000003', '000000010000000000000004'],
  walBytes: 33_554_432,
} as unknown as RestoreSelection;

describe('sideRestorePlanSteps (rows, table and database restore steps)', () => {
  it('estimates the base restore and the replay with the documented defaults when the pool has measured nothing', () => {
    const steps = sideRestorePlanSteps(selection, undefined, 'side-1', 'just before xid 900');
    expect(steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal']);
    const base = steps[1]!;
    expect(base.estimate).toMatchObject({ bytes: 400_000_000, bytesPerSecond: 80e6, samples: 0 });
    expect(base.estimateSeconds).toBe(2 + 5); // start-up + 400 MB at 80 MB/s
    expect(steps[3]!.estimate).toMatchObject({ samples: 0, bytesPerSecond: 100e6 });
    expect(steps[2]!.title).toBe('Configure recovery to just before xid 900');
  });

  it("uses the pool's measured rates when it has them", () => {
    const rates = {
      'restore-base-backup': { bytesPerSecond: 20e6, startupSeconds: 1, tailSeconds: 0, samples: 3 },
      'replay-wal': { bytesPerSecond: 4e6, startupSeconds: 4, tailSeconds: 6, samples: 3 },
    };
    const steps = sideRestorePlanSteps(selection, rates, 'side-1', 'x');
    expect(steps[1]!.estimateSeconds).toBe(1 + 20); // 400 MB at 20 MB/s
    expect(steps[3]!.estimate).toMatchObject({ bytesPerSecond: 4e6, samples: 3 });
    expect(steps[3]!.estimateSeconds!).toBeGreaterThan(4 + 6);
  });
});
