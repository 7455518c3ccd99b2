/** The order base backup parts are extracted in (pure). */
import { describe, expect, it } from 'vitest';
import { extractionOrder } from '../../../../src/engine/backup-parts/restore-parts.js';

describe('extractionOrder', () => {
  it.each<[string, number[], string[]]>([
    ['largest stored part first', [10, 30, 20], ['p1', 'p2', 'p0']],
    ['equal sizes keep the manifest order', [5, 5, 9, 5], ['p2', 'p0', 'p1', 'p3']],
    // The last part (pg_control, backup_label) is small: it no longer ends the restore alone after a big one.
    ['a small last part goes last, a big last part first', [64, 64, 1, 80], ['p3', 'p0', 'p1', 'p2']],
    ['one part', [7], ['p0']],
    ['none', [], []],
  ])('%s', (_name, sizes, expected) => {
    const files = sizes.map((bytes, index) => ({ name: `p${index}`, bytes }));
    expect(extractionOrder(files).map((file) => file.name)).toEqual(expected);
    // The manifest's own list is left as it is.
    expect(files.map((file) => file.name)).toEqual(sizes.map((_bytes, index) => `p${index}`));
  });
});
