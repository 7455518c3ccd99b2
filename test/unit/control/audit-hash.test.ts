import { describe, expect, it } from 'vitest';
import { auditEntryHash, GENESIS_HASH, type AuditEntry } from '../../../src/control/audit.js';
import { canonicalJson, sha256Hex } from '../../../src/control/digest.js';

const entry: Omit<AuditEntry, 'hash'> = {
  seq: 7,
  at: new Date('2024-05-01T12:00:00.123Z'),
  actor: 'U123',
  action: 'approval.approve',
  subject: 'request:42',
  details: { planDigest: 'abc', nested: { b: 1, a: 2 } },
  prevHash: GENESIS_HASH,
};

describe('auditEntryHash', () => {
  it('is sha256 over the canonical JSON of the entry with prev_hash', () => {
    const expected = sha256Hex(
      canonicalJson({
        seq: '7',
        at: '2024-05-01T12:00:00.123Z',
        actor: 'U123',
        action: 'approval.approve',
        subject: 'request:42',
        details: entry.details,
        prev_hash: GENESIS_HASH,
      }),
    );
    expect(auditEntryHash(entry)).toBe(expected);
  });

  it('does not depend on the key order of details', () => {
    expect(auditEntryHash({ ...entry, details: { nested: { a: 2, b: 1 }, planDigest: 'abc' } })).toBe(auditEntryHash(entry));
  });

  it.each<[string, Partial<Omit<AuditEntry, 'hash'>>]>([
    ['seq', { seq: 8 }],
    ['at (one millisecond)', { at: new Date('2024-05-01T12:00:00.124Z') }],
    ['actor', { actor: 'U124' }],
    ['action', { action: 'approval.reject' }],
    ['subject', { subject: 'request:43' }],
    ['details', { details: { planDigest: 'abd', nested: { b: 1, a: 2 } } }],
    ['prev_hash', { prevHash: 'f'.repeat(64) }],
  ])('changes when %s changes', (_field, change) => {
    expect(auditEntryHash({ ...entry, ...change })).not.toBe(auditEntryHash(entry));
  });
});
