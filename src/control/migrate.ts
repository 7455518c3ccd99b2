/**
 * Applies the numbered migrations (see migrations.ts) to the control DB at process start.
 * A session-level advisory lock serialises processes that start together; each migration
 * commits in its own transaction together with its schema_migrations row, so a failure
 * leaves the DB at the previous version rather than half-way through one.
 */
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import { sha256Hex } from './digest.js';
import { LOCK_NAMESPACE } from './db.js';
import { MIGRATIONS } from './migrations.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  applied: string[];
  /** Versions present in the DB that this build does not know (a newer build ran). */
  unknownVersions: number[];
}

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/** Versions must be 1, 2, 3… in order: a gap usually means a file was lost in a merge. */
export function assertWellNumbered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new RecoverError(
        'MIGRATION_INVALID',
        `Control DB migration ${migration.name} has version ${migration.version}, expected ${index + 1}.`,
      );
    }
  });
}

export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  assertWellNumbered(migrations);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, 0)', [LOCK_NAMESPACE.schemaMigration]);
    try {
      return await applyPending(client, migrations);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCK_NAMESPACE.schemaMigration]);
    }
  } finally {
    client.release();
  }
}

/**
 * Where the bot has a control-DB role of its own (README, "Deploying"), it may read the schema
 * but not change it: the runner's role owns it and applies migrations. So the table is created
 * only when missing (CREATE … IF NOT EXISTS still needs CREATE on the schema), and a change
 * refused for lack of privileges says which process to start first.
 */
function notPermitted(what: string, error: unknown): RecoverError | undefined {
  if ((error as { code?: unknown } | null)?.code !== '42501') return undefined;
  return new RecoverError('MIGRATION_INVALID', `${what}: this control-DB role may not change the schema (${(error as Error).message}).`, {
    hint: "Start a runner of this version first: its role owns the control DB and applies the migrations; then start the bot (README, \"Deploying\").",
    cause: error,
  });
}

async function applyPending(client: pg.PoolClient, migrations: readonly Migration[]): Promise<MigrationResult> {
  const { rows: present } = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!present[0]?.present) {
    await client.query(CREATE_MIGRATIONS_TABLE).catch((error: unknown) => {
      throw notPermitted('The control DB has no schema yet', error) ?? error;
    });
  }
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const appliedByVersion = new Map(rows.map((row) => [row.version, row]));
  for (const migration of migrations) {
    const applied = appliedByVersion.get(migration.version);
    if (applied && applied.checksum !== sha256Hex(migration.sql)) {
      throw new RecoverError(
        'MIGRATION_INVALID',
        `Control DB migration ${migration.name} was changed after it was applied (as ${applied.name}).`,
        { hint: 'Never edit an applied migration: restore its text and add a new numbered migration instead.' },
      );
    }
  }

  const appliedNow: string[] = [];
  for (const migration of migrations.filter((m) => !appliedByVersion.has(m.version))) {
    await client.query('BEGIN');
    try {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        sha256Hex(migration.sql),
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      const refused = notPermitted(`Control DB migration ${migration.name} is not applied yet`, error);
      if (refused) throw refused;
      throw new RecoverError('MIGRATION_INVALID', `Control DB migration ${migration.name} failed.`, {
        hint: 'The control DB stays at the previous version; fix the migration and restart.',
        cause: error,
      });
    }
    appliedNow.push(migration.name);
  }
  const known = new Set(migrations.map((m) => m.version));
  return { applied: appliedNow, unknownVersions: rows.map((r) => r.version).filter((v) => !known.has(v)) };
}
