/**
 * Which relations and databases recover-bot may act on (pure: SQL text and the decision).
 * `rows`, `table`, `database` and `locate` act only on ordinary user tables and user
 * databases: never on PostgreSQL's catalogs (a `replace` of pg_catalog.pg_database once
 * deleted databases and exited 0), an extension's own tables, views and other relations
 * that hold no rows of their own, nor the template and maintenance databases.
 * The decision is made from the catalog of the cluster the name resolves in (schema name
 * and oid of the resolved relation, relkind, pg_depend), never from the words typed, so
 * `PG_CATALOG.pg_class`, an unqualified `pg_authid` or a view over a catalog are refused
 * like `pg_catalog.pg_authid`. The executor (guard.ts) reads the facts; these functions
 * decide, at planning and again in the job.
 */
import { RecoverError } from '../../errors.js';

/** PostgreSQL's FirstNormalObjectId: every object initdb creates (catalogs, information_schema, template1, postgres) has a lower oid. */
export const FIRST_NORMAL_OBJECT_ID = 16384;

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);
/** The databases `/recover database` never restores nor swaps (by name; a re-created `postgres` included). */
export const SYSTEM_DATABASES: readonly string[] = ['template0', 'template1', 'postgres'];

/** PostgreSQL's own schemas: the catalogs, information_schema, TOAST, and every session's temporary schemas. */
export function isSystemSchema(name: string): boolean {
  return SYSTEM_SCHEMAS.has(name) || /^pg_(toast_)?temp_\d+$/.test(name);
}

/** The relation a name resolves to (PostgreSQL's rules: quoting, case folding, search_path with pg_catalog first). `$1` = the name. */
export const resolveRelationSql = `SELECT to_regclass($1)::oid::int8::text AS oid`;

/** What decides whether a relation may be a target. `$1` = its oid. */
export const relationFactsSql = `
  SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name,
         c.relkind::text AS kind, c.relpersistence::text AS persistence,
         (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           LIMIT 1) AS extension
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = $1::int8::oid`;

/**
 * A name production does not resolve (a dropped table): the schema it names, as the catalog
 * has it (case folding and quoting by parse_ident). No row: the name is unqualified, or the
 * schema does not exist. `$1` = the name.
 */
export const namedSchemaSql = `
  SELECT n.oid::int8::text AS oid, n.nspname AS name
    FROM (SELECT parse_ident($1) AS p) x JOIN pg_namespace n ON n.nspname = x.p[array_length(x.p, 1) - 1]
   WHERE array_length(x.p, 1) >= 2`;

/** What decides whether a database may be a target. `$1` = its name. No row: no such database. */
export const databaseGuardFactsSql = `
  SELECT oid::int8::text AS oid, datname AS name, datistemplate AS is_template, datallowconn AS allow_connections
    FROM pg_database WHERE datname = $1`;

/** The command naming the table; 'write': the engines' own check right before writing (any command). */
export type RelationUse = 'rows' | 'table' | 'locate' | 'write';

export interface RelationFacts {
  oid: string;
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned table, v view, m materialized view, f foreign table, S sequence, i/I index, t TOAST, c composite type. */
  kind: string;
  /** pg_class.relpersistence: p permanent, u unlogged, t temporary. */
  persistence: string;
  /** The extension the relation belongs to (pg_depend deptype 'e'), or null. */
  extension: string | null;
}

export function toRelationFacts(row: Record<string, unknown>): RelationFacts {
  return {
    oid: String(row.oid),
    schema: String(row.schema),
    name: String(row.name),
    kind: String(row.kind),
    persistence: String(row.persistence),
    extension: row.extension === null || row.extension === undefined ? null : String(row.extension),
  };
}

const KIND_WORDS: Record<string, string> = {
  v: 'a view (its rows belong to the tables it reads)',
  m: 'a materialized view (REFRESH MATERIALIZED VIEW rebuilds it from its tables)',
  f: 'a foreign table (its rows live on another server)',
  S: 'a sequence',
  i: 'an index',
  I: 'a partitioned index',
  t: 'a TOAST table (part of another table)',
  c: 'a composite type',
};

const quoted = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);
const display = (facts: { schema: string; name: string }) => `${quoted(facts.schema)}.${quoted(facts.name)}`;
const COMMAND = { rows: '/recover rows', table: '/recover table', locate: '/recover locate', write: 'recover-bot' } as const;
const ALLOWED = 'Only ordinary user tables (and partitioned tables) of your own schemas are allowed';

/**
 * Why the relation may not be a target of `use`, or null. `asked` is the name as given (the
 * message says it and what it resolved to). Checked in order: a system schema, an oid initdb
 * made, an extension's member, a relkind that holds no rows of its own, a temporary table.
 */
export function classifyRelation(facts: RelationFacts, use: RelationUse, asked: string = display(facts)): RecoverError | null {
  const what = `${asked}${asked === display(facts) ? '' : ` (${display(facts)})`}`;
  const refuse = (why: string, hint: string) => new RecoverError('TARGET_NOT_ALLOWED', `${COMMAND[use]} refuses ${what}: ${why}. ${ALLOWED}; nothing was restored or written.`, { hint });
  const systemHint = `Name a table of your own (e.g. public.orders) and --db for its database. To undo a change to roles, databases or other catalog contents, restore a side instance with /recover pitr … and repair production by hand (CREATE/ALTER ROLE, CREATE DATABASE …).`;
  if (isSystemSchema(facts.schema)) return refuse(`it is in ${facts.schema}, a PostgreSQL system schema (catalogs and internal tables change only through PostgreSQL's own commands)`, systemHint);
  if (!(Number(facts.oid) >= FIRST_NORMAL_OBJECT_ID)) return refuse(`it is a system object (oid ${facts.oid}, below ${FIRST_NORMAL_OBJECT_ID}: created by initdb)`, systemHint);
  if (facts.extension !== null) {
    return refuse(`it belongs to the extension ${facts.extension}, whose scripts own its contents`, `Restore the extension's data with the extension's own tools, or ALTER EXTENSION ${quoted(facts.extension)} UPDATE; user tables are not affected.`);
  }
  if (facts.kind !== 'r' && facts.kind !== 'p') {
    const kind = KIND_WORDS[facts.kind] ?? `not a table (relkind ${facts.kind})`;
    return refuse(`it is ${kind}`, facts.kind === 'v' || facts.kind === 'm' ? `Name the table(s) the view reads from (\\d+ ${display(facts)} shows its definition).` : 'Name the table that holds the rows.');
  }
  if (facts.persistence === 't') return refuse('it is a temporary table (it belongs to one session and lives only as long as it)', 'Name a permanent table.');
  return null;
}

/**
 * A name production no longer resolves (the dropped-table path of `/recover table`): refused
 * when the schema it names is a system one (its name as the catalog has it: schema oids do not
 * tell, public's is below FirstNormalObjectId too), else null — the side copy's relation is
 * checked again once it is read.
 */
export function classifySchema(schema: { oid: string; name: string } | null, use: RelationUse, asked: string): RecoverError | null {
  if (schema === null || !isSystemSchema(schema.name)) return null;
  return new RecoverError('TARGET_NOT_ALLOWED', `${COMMAND[use]} refuses ${asked}: it names ${schema.name}, a PostgreSQL system schema (oid ${schema.oid}). ${ALLOWED}; nothing was restored or written.`, {
    hint: 'Name a table of your own (e.g. public.orders) and --db for its database.',
  });
}

/**
 * How a database is used: `tables` holds the table of rows / table / locate (--db); `database`
 * is the database `/recover database` restores as a copy; `swap` is either database of a swap.
 */
export type DatabaseUse = 'tables' | 'database' | 'swap';

export interface DatabaseGuardFacts {
  oid: string;
  name: string;
  isTemplate: boolean;
  allowConnections: boolean;
}

export function toDatabaseGuardFacts(row: Record<string, unknown>): DatabaseGuardFacts {
  return { oid: String(row.oid), name: String(row.name), isTemplate: row.is_template === true, allowConnections: row.allow_connections === true };
}

const SYSTEM_DATABASE_WHY: Record<string, string> = {
  template0: 'template0 is PostgreSQL\'s pristine template (never changed, never connected to)',
  template1: 'template1 is the template every CREATE DATABASE copies: a swapped-in copy is not a template (datistemplate = false), and then non-superusers get "permission denied to copy database template1"',
  postgres: 'postgres is the maintenance database tools, superusers and this runner connect to: swapping it ends their sessions and renames it away',
};

/**
 * Why the database may not be used so, or null. `facts` null: no such database — not decided
 * here: for `tables` the connection to it reports it (DATABASE_NOT_FOUND, naming the ones
 * production has), for `database` a dropped database is restored from the backup, for `swap`
 * the swap's own check says so.
 */
export function classifyDatabase(name: string, facts: DatabaseGuardFacts | null, use: DatabaseUse): RecoverError | null {
  if (use === 'tables') {
    if (facts === null) return null;
    if (facts.isTemplate) {
      return new RecoverError('TARGET_NOT_ALLOWED', `${name} is a template database (datistemplate): rows, tables and WAL are looked for only in user databases; nothing was restored or written.`, {
        hint: 'Give --db with the user database that holds the table (templates are copied by CREATE DATABASE, not restored into).',
      });
    }
    if (!facts.allowConnections) {
      return new RecoverError('TARGET_NOT_ALLOWED', `${name} does not allow connections (datallowconn = false): it is not a database in use; nothing was restored or written.`, {
        hint: `If it should take connections: ALTER DATABASE ${quoted(name)} ALLOW_CONNECTIONS true, then plan again.`,
      });
    }
    return null;
  }
  const verb = use === 'swap' ? 'swap' : 'restore';
  const system = SYSTEM_DATABASES.includes(name) || (facts !== null && !(Number(facts.oid) >= FIRST_NORMAL_OBJECT_ID));
  if (system || facts?.isTemplate) {
    const why = SYSTEM_DATABASE_WHY[name] ?? (facts?.isTemplate ? `${name} is a template database (datistemplate)` : `${name} was created by initdb (oid ${facts?.oid}, below ${FIRST_NORMAL_OBJECT_ID})`);
    return new RecoverError('TARGET_NOT_ALLOWED', `/recover database will not ${verb} ${name}: ${why}. Only user databases may be restored or swapped; nothing was restored or changed.`, {
      hint:
        name === 'postgres'
          ? 'Bring back tables of postgres with /recover table … --db postgres or /recover rows … --db postgres; keep application data in a database of its own.'
          : 'To undo a change in a template, restore a side instance with /recover pitr … and repeat the change there by hand as a superuser (or recreate the template: CREATE DATABASE … IS_TEMPLATE true). User databases are restored with /recover database <name>.',
    });
  }
  if (use === 'swap' && facts !== null && !facts.allowConnections) {
    return new RecoverError('TARGET_NOT_ALLOWED', `/recover database will not swap ${name}: it does not allow connections (datallowconn = false), and the swap would allow them again; nothing was changed.`, {
      hint: `If it should take connections: ALTER DATABASE ${quoted(name)} ALLOW_CONNECTIONS true, then plan the swap again.`,
    });
  }
  return null;
}
