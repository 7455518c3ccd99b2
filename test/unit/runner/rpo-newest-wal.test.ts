/** Where a WAL segment archived after the highest one seen can be (the RPO watch's look between full reads). */
import { describe, expect, it } from 'vitest';
import { prefixesAfter } from '../../../src/runner/rpo/newest-wal.js';

describe('prefixesAfter', () => {
  it.each<[string, string[]]>([
    ['000000010000000000000003', ['0000000100000000', '0000000100000001', '00000002']],
    ['0000000100000000000000FF', ['0000000100000000', '0000000100000001', '00000002']],
    ['0000000A0000001F00000010.zst', ['0000000A0000001F', '0000000A00000020', '0000000B']],
    ['00000001FFFFFFFF000000FF', ['00000001FFFFFFFF', '00000002']],
    ['FFFFFFFF0000000100000000', ['FFFFFFFF00000001', 'FFFFFFFF00000002']],
  ])('%s → %j', (name, prefixes) => expect(prefixesAfter(name)).toEqual(prefixes));
});
