import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/control/migrate.js';
import { MIGRATIONS } from '../../../src/control/migrations.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

const opened: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false });
  opened.push(db);
  return db;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.drop()));
});

describe('migrate', () => {
  it('is race-safe: two processes migrating at once apply each migration once', async () => {
    const db = await freshDatabase();
    const [first, second] = await Promise.all([migrate(db.newPool(2)), migrate(db.newPool(2))]);
    const appliedTotal = [...first.applied, ...second.applied].sort();
    expect(appliedTotal).toEqual(MIGRATIONS.map((m) => m.name));

    const { rows } = await db.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = await db.pool.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.rows.map((r) => r.tablename)).toEqual([
      'approvals',
      'audit_log',
      'database_copies',
      'events',
      'jobs',
      'measured_rates',
      'plans',
      'requests',
      'restore_drills',
      'rpo_alerts',
      'rpo_notices',
      'schedule_alerts',
      'scheduled_runs',
      'schema_migrations',
      'seen_slack_requests',
      'slack_posts',
      'step_checkpoints',
    ]);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const db = await freshDatabase();
    await migrate(db.pool);
    expect(await migrate(db.pool)).toEqual({ applied: [], unknownVersions: [] });
  });

  it('refuses to start when an applied migration was edited', async () => {
    const db = await freshDatabase();
    await migrate(db.pool);
    const edited = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(db.pool, edited)).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
  });

  it('rolls a failing migration back entirely and keeps the earlier ones', async () => {
    const db = await freshDatabase();
    const migrations = [
      { version: 1, name: '0001_ok', sql: 'CREATE TABLE kept (id int)' },
      { version: 2, name: '0002_broken', sql: 'CREATE TABLE half (id int); SELECT no_such_function()' },
    ];
    await expect(migrate(db.pool, migrations)).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
    const { rows } = await db.pool.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('kept', 'half')`,
    );
    expect(rows.map((r) => r.tablename)).toEqual(['kept']);
    const versions = await db.pool.query('SELECT version FROM schema_migrations');
    expect(versions.rows).toEqual([{ version: 1 }]);
  });

  it('reports versions applied by a newer build without failing', async () => {
    const db = await freshDatabase();
    await migrate(db.pool);
    await db.pool.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (999, '0999_future', 'x')`);
    expect(await migrate(db.pool)).toEqual({ applied: [], unknownVersions: [999] });
  });
});
