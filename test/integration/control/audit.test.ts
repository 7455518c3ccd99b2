import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, GENESIS_HASH, listAudit, verifyAudit } from '../../../src/control/audit.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

const opened: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  opened.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.drop()));
});

async function appendMany(db: TestDatabase, count: number): Promise<void> {
  // Separate pools so the appends really race for the chain tip.
  const pools = [db.newPool(4), db.newPool(4)];
  await Promise.all(
    Array.from({ length: count }, (_v, i) =>
      appendAudit(pools[i % 2]!, {
        actor: `U${i}`,
        action: 'test.append',
        subject: `thing:${i}`,
        details: { i, big: BigInt(i) * 10n ** 20n, at: new Date(0) },
      }),
    ),
  );
}

describe('audit log', () => {
  it('concurrent appends keep one valid chain', async () => {
    const db = await freshDatabase();
    await appendMany(db, 30);
    expect(await verifyAudit(db.pool, { pageSize: 7 })).toEqual({ ok: true, rows: 30 });
    const entries = (await listAudit(db.pool, { limit: 100 })).reverse();
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    entries.slice(1).forEach((entry, i) => expect(entry.prevHash).toBe(entries[i]?.hash));
  });

  it('an empty log verifies', async () => {
    const db = await freshDatabase();
    expect(await verifyAudit(db.pool)).toEqual({ ok: true, rows: 0 });
  });

  it.each([
    ['UPDATE', `UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`],
    ['DELETE', 'DELETE FROM audit_log WHERE seq = 1'],
    ['TRUNCATE', 'TRUNCATE audit_log'],
  ])('the database refuses %s', async (_op, sql) => {
    const db = await freshDatabase();
    await appendMany(db, 2);
    await expect(db.pool.query(sql)).rejects.toThrow(/append-only/);
    expect(await verifyAudit(db.pool)).toEqual({ ok: true, rows: 2 });
  });

  it('detects a modified entry when a superuser bypasses the trigger', async () => {
    const db = await freshDatabase();
    await appendMany(db, 5);
    const [target] = (await listAudit(db.pool, { limit: 5 })).reverse().slice(2);
    await db.pool.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    await db.pool.query(`UPDATE audit_log SET details = details || '{"i": 999}' WHERE seq = $1`, [target!.seq]);
    await db.pool.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    expect(await verifyAudit(db.pool)).toEqual({
      ok: false,
      brokenAtSeq: target!.seq,
      reason: expect.stringMatching(/hash does not match/),
    });
  });

  it('detects a removed entry at the entry that follows it', async () => {
    const db = await freshDatabase();
    await appendMany(db, 5);
    const entries = (await listAudit(db.pool, { limit: 5 })).reverse();
    await db.pool.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    await db.pool.query('DELETE FROM audit_log WHERE seq = $1', [entries[1]!.seq]);
    await db.pool.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    expect(await verifyAudit(db.pool)).toEqual({
      ok: false,
      brokenAtSeq: entries[2]!.seq,
      reason: expect.stringMatching(/prev_hash/),
    });
  });
});
