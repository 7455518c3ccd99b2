/**
 * The one guard every command that names a table or a database goes through (guard-sql.ts
 * decides, this reads the catalog): at planning (each command's gather) and again in the job,
 * before a side instance is restored and, through `readTable` (engine/rows/table.ts), right
 * before anything is written, since the rows and table engines resolve every table they write
 * through it. test/unit/architecture.test.ts fails when a command that reaches production's
 * write builders does not import this module.
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import {
  classifyDatabase, classifyRelation, classifySchema, databaseGuardFactsSql, FIRST_NORMAL_OBJECT_ID, namedSchemaSql, relationFactsSql, resolveRelationSql,
  toDatabaseGuardFacts, toRelationFacts, type DatabaseUse, type RelationFacts, type RelationUse,
} from './guard-sql.js';

export type { DatabaseUse, RelationFacts, RelationUse } from './guard-sql.js';

/** The relation's facts by oid (null: no such relation). */
export async function relationFacts(client: pg.Client, oid: string | number): Promise<RelationFacts | null> {
  const row = (await client.query(relationFactsSql, [String(oid)])).rows[0];
  return row ? toRelationFacts(row) : null;
}

/** Refuses (TARGET_NOT_ALLOWED) unless the relation with this oid may be a target; null when there is no such relation. */
export async function requireTargetRelationOid(client: pg.Client, oid: string | number, use: RelationUse, asked?: string): Promise<RelationFacts | null> {
  const facts = await relationFacts(client, oid);
  if (facts) {
    const refused = classifyRelation(facts, use, asked);
    if (refused) throw refused;
  }
  return facts;
}

/**
 * The name resolved as PostgreSQL resolves it (in `client`'s database), refused unless it is
 * an ordinary user table. A name that does not resolve: null, after refusing a system schema
 * it names (a table dropped from production is looked for in the side copy, checked there).
 */
export async function requireTargetTable(client: pg.Client, name: string, use: RelationUse): Promise<RelationFacts | null> {
  const oid = (
    await client.query<{ oid: string | null }>(resolveRelationSql, [name]).catch((error: unknown) => {
      throw new RecoverError('BAD_INPUT', `"${name}" is not a table name: ${(error as Error).message}.`, { hint: 'Name a table as schema.table or table (on the search path).', cause: error });
    })
  ).rows[0]?.oid;
  if (oid) return requireTargetRelationOid(client, oid, use, name);
  const schema = (await client.query<{ oid: string; name: string }>(namedSchemaSql, [name])).rows[0] ?? null;
  const refused = classifySchema(schema, use, name);
  if (refused) throw refused;
  return null;
}

/** Refuses unless `name` may be used so on the cluster `client` is connected to (any of its databases: pg_database is shared). */
export async function requireTargetDatabaseOn(client: pg.Client, name: string, use: DatabaseUse): Promise<void> {
  const row = (await client.query(databaseGuardFactsSql, [name])).rows[0];
  const refused = classifyDatabase(name, row ? toDatabaseGuardFacts(row) : null, use);
  if (refused) throw refused;
}

/** The databases checked on production (connected through its `postgres` database, as the rest of the runner). */
export async function requireTargetDatabases(production: TargetConnection, names: readonly string[], use: DatabaseUse): Promise<void> {
  await withTargetClient(production, async (client) => {
    for (const name of names) await requireTargetDatabaseOn(client, name, use);
  });
}

/**
 * rows / table / locate: the database (a user database that takes connections) and the table
 * in it (an ordinary user table), read from production's catalog. `connect(database)` gives the
 * connection to one of production's databases (a database production does not have is
 * reported by that connection). Returns the table's facts (null: production has no such
 * table, and the name is not in a system schema).
 */
export async function requireTargetInDatabase(connect: (database: string) => TargetConnection, database: string, table: string, use: RelationUse): Promise<RelationFacts | null> {
  await withTargetClient(connect('postgres'), (client) => requireTargetDatabaseOn(client, database, 'tables'));
  return withTargetClient(connect(database), (client) => requireTargetTable(client, table, use));
}

/**
 * In the job, by the oid the plan bound (a name can be re-pointed since planning): the database
 * again, and the relation if it still exists; one that is gone is refused only for an oid
 * initdb made (its WAL may still be read: the rows were there).
 */
export async function requireTargetOidInDatabase(connect: (database: string) => TargetConnection, database: string, oid: number, use: RelationUse, asked: string): Promise<RelationFacts | null> {
  await withTargetClient(connect('postgres'), (client) => requireTargetDatabaseOn(client, database, 'tables'));
  const facts = await withTargetClient(connect(database), (client) => requireTargetRelationOid(client, oid, use, asked));
  if (facts === null && !(oid >= FIRST_NORMAL_OBJECT_ID)) {
    throw classifyRelation({ oid: String(oid), schema: '(dropped)', name: asked, kind: 'r', persistence: 'p', extension: null }, use, asked)!;
  }
  return facts;
}
