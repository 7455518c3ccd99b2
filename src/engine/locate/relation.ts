/**
 * The table `locate` looks for, as production knows it now: its OID and the relfilenode(s)
 * its rows live in (a partitioned table's leaf partitions), read from RECOVER_SOURCE_URL in
 * the chosen database; and, after the scan, the names of other relations by relfilenode.
 * A TRUNCATE, VACUUM FULL or CLUSTER gives a table a new relfilenode: WAL written before it
 * names the old one, which the catalog no longer knows.
 */
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { databaseNotFound, withTargetClient, type TargetConnection } from '../pg-client.js';
import { databasesSql } from '../sql.js';

export interface LocateRelation {
  /** `schema.table` of the leaf. */
  name: string;
  oid: number;
  /** `tablespace/database/relfilenode`, as pg_waldump prints block references. */
  relfilenode: string;
}

export interface LocateTable {
  database: string;
  /** `schema.table` as the catalog names it. */
  table: string;
  oid: number;
  /** The table's own storage, or its leaf partitions'. */
  relations: LocateRelation[];
}

/** The table and its leaf partitions (pg_partition_tree lists none for a plain table), with their storage. $1: the name as given. */
export const tableStorageSql = `
  WITH t AS (SELECT to_regclass($1) AS oid),
       tree AS (SELECT t.oid AS relid, true AS root FROM t WHERE t.oid IS NOT NULL
                UNION ALL
                SELECT p.relid, false FROM t, pg_partition_tree(t.oid) p WHERE t.oid IS NOT NULL AND p.level > 0 AND p.isleaf)
  SELECT c.oid::int8 AS oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, c.relkind::text AS kind,
         pg_relation_filenode(c.oid)::int8 AS filenode,
         (CASE WHEN c.reltablespace = 0 THEN d.dattablespace ELSE c.reltablespace END)::int8 AS tablespace,
         d.oid::int8 AS database, tree.root
    FROM tree
    JOIN pg_class c ON c.oid = tree.relid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_database d ON d.datname = current_database()`;

/**
 * Every relfilenode of the current database now (shared catalogs left out), and whether it is
 * one of the table's own relations: the table or its partitions, their TOAST tables and the
 * indexes of both; `heap`: the table's (or a partition's) own rows. `$1`: the table's OID.
 */
export const liveStorageSql = `
  WITH tree AS (SELECT $1::oid AS relid UNION SELECT p.relid FROM pg_partition_tree($1::oid) p),
       heaps AS (SELECT relid FROM tree UNION SELECT c.reltoastrelid FROM pg_class c JOIN tree t ON c.oid = t.relid WHERE c.reltoastrelid <> 0),
       mine AS (SELECT relid FROM heaps UNION SELECT i.indexrelid FROM pg_index i JOIN heaps h ON i.indrelid = h.relid)
  SELECT (CASE WHEN c.reltablespace = 0 THEN d.dattablespace ELSE c.reltablespace END)::int8 AS tablespace, d.oid::int8 AS database,
         pg_relation_filenode(c.oid)::int8 AS filenode, c.oid IN (SELECT relid FROM mine) AS own, c.oid IN (SELECT relid FROM tree) AS heap
    FROM pg_class c JOIN pg_database d ON d.datname = current_database()
   WHERE NOT c.relisshared AND pg_relation_filenode(c.oid) IS NOT NULL`;

/**
 * Production's relfilenodes now (`tablespace/database/relfilenode`), the table's own relations'
 * among them, and its heap(s): read when the job starts (a TRUNCATE since planning gave the
 * table a new relfilenode), so the WAL scan can tell the table's storage from storage since
 * dropped or replaced.
 */
export async function liveStorage(connection: TargetConnection, oid: number): Promise<{ live: string[]; own: string[]; heaps: string[] }> {
  const rows = await withTargetClient(connection, async (client) => (await client.query<{ tablespace: string; database: string; filenode: string; own: boolean; heap: boolean }>(liveStorageSql, [oid])).rows);
  const key = (row: (typeof rows)[number]) => `${row.tablespace}/${row.database}/${row.filenode}`;
  return { live: rows.map(key), own: rows.filter((row) => row.own).map(key), heaps: rows.filter((row) => row.heap).map(key) };
}

/** Names of relations by `tablespace, relfilenode` in the current database ($1, $2: arrays). */
export const relationNamesSql = `
  SELECT t.ts::int8 AS tablespace, t.fn::int8 AS filenode, pg_filenode_relation(t.ts, t.fn)::regclass::text AS name
    FROM unnest($1::oid[], $2::oid[]) AS t(ts, fn)`;

export function productionConnection(sourceUrl: string | undefined, database: string): TargetConnection {
  if (!sourceUrl) {
    throw new RecoverError('CONFIG_INVALID', 'Locating changes needs RECOVER_SOURCE_URL on the runner: the table\'s relfilenode is read from production.', { hint: 'Configure the production connection on the runner.' });
  }
  return pgClientConfig(parseConnectionUrl(sourceUrl), database);
}

/**
 * --db, or production's only database besides templates and `postgres` (else `postgres` when it
 * is the only one). A --db production does not have is refused here, at planning, for every
 * command that takes one (DATABASE_NOT_FOUND, exit 3, naming the databases it has); one that
 * exists but is a template or takes no connections is left to the target guard (engine/targets).
 */
export async function chooseDatabase(sourceUrl: string | undefined, given: string | undefined): Promise<string> {
  const rows = await withTargetClient(productionConnection(sourceUrl, 'postgres'), async (client) => (await client.query<{ datname: string; usable: boolean }>(databasesSql)).rows);
  const usable = rows.filter((row) => row.usable).map((row) => row.datname);
  if (given) {
    if (rows.some((row) => row.datname === given)) return given;
    throw databaseNotFound(given, usable, { where: 'Production' });
  }
  const user = usable.filter((name) => name !== 'postgres');
  if (user.length === 1) return user[0]!;
  if (user.length === 0) return 'postgres';
  throw new RecoverError('BAD_INPUT', `Production has several databases (${user.join(', ')}); say which holds the table.`, { hint: `Add --db ${user[0]}.` });
}

export async function resolveTable(connection: TargetConnection, database: string, table: string): Promise<LocateTable> {
  const rows = await withTargetClient(connection, async (client) =>
    (await client.query<{ oid: string; name: string; kind: string; filenode: string | null; tablespace: string; database: string; root: boolean }>(tableStorageSql, [table])).rows,
  );
  const root = rows.find((row) => row.root);
  if (!root || (root.kind !== 'r' && root.kind !== 'p')) {
    throw new RecoverError('BAD_INPUT', `There is no table ${table} in database ${database} on production.`, { hint: 'Give the table as schema.table (or a table on the search path), and --db for its database.' });
  }
  const leaves = rows.filter((row) => row.kind === 'r' && row.filenode !== null);
  return {
    database,
    table: root.name,
    oid: Number(root.oid),
    relations: leaves.map((row) => ({ name: row.name, oid: Number(row.oid), relfilenode: `${row.tablespace}/${row.database}/${row.filenode}` })),
  };
}

/** Names for `tablespace/database/relfilenode`s of this database (others, and dropped or rewritten ones, stay unnamed). */
export async function relationNames(connection: TargetConnection, relfilenodes: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (relfilenodes.length === 0) return names;
  await withTargetClient(connection, async (client) => {
    const own = relfilenodes.map((key) => key.split('/').map(Number) as [number, number, number]);
    const database = (await client.query<{ oid: string }>('SELECT oid::int8 AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!.oid;
    const mine = own.filter(([, db]) => String(db) === database);
    const { rows } = await client.query<{ tablespace: string; filenode: string; name: string | null }>(relationNamesSql, [mine.map(([ts]) => ts), mine.map(([, , fn]) => fn)]);
    for (const row of rows) if (row.name) names.set(`${row.tablespace}/${database}/${row.filenode}`, row.name);
  });
  return names;
}
