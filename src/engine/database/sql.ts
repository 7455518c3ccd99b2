/**
 * SQL of /recover database (pure): the facts read about a database, creating its copy with the
 * same encoding and locale, the marker a verified copy carries, and the rename swap.
 * Identifiers are always quoted; values are literals or parameters, never spliced raw.
 */
import { quoteIdent } from '../sql.js';

/** A single-quoted SQL literal (for the few statements that take no parameters: CREATE DATABASE, COMMENT). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Every database's name (templates and ones refusing connections included): names in use. */
export const databaseNamesSql = `SELECT datname FROM pg_database`;

/** One database's facts ($1 = name): oid, owner, encoding, locale, connections allowed, size, comment. */
export const databaseFactsSql = `
  SELECT d.oid::text AS oid, r.rolname AS owner, pg_encoding_to_char(d.encoding) AS encoding,
         d.datcollate AS collate, d.datctype AS ctype, d.datlocprovider::text AS provider, d.daticulocale AS icu_locale,
         d.datallowconn AS allow_connections, pg_database_size(d.oid)::bigint AS bytes,
         shobj_description(d.oid, 'pg_database') AS comment
    FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
   WHERE d.datname = $1`;

export interface DatabaseFacts {
  oid: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  /** 'c' (libc) or 'i' (ICU). */
  provider: string;
  icuLocale: string | null;
  allowConnections: boolean;
  bytes: number;
  comment: string | null;
}

export function toDatabaseFacts(row: Record<string, unknown>): DatabaseFacts {
  return {
    oid: String(row.oid),
    owner: String(row.owner),
    encoding: String(row.encoding),
    collate: String(row.collate),
    ctype: String(row.ctype),
    provider: String(row.provider),
    icuLocale: row.icu_locale === null || row.icu_locale === undefined ? null : String(row.icu_locale),
    allowConnections: row.allow_connections === true,
    bytes: Number(row.bytes),
    comment: row.comment === null || row.comment === undefined ? null : String(row.comment),
  };
}

/** An empty database from template0 with the original's owner, encoding and locale (PostgreSQL 15 words). */
export function createDatabaseLikeSql(name: string, like: Pick<DatabaseFacts, 'owner' | 'encoding' | 'collate' | 'ctype' | 'provider' | 'icuLocale'>): string {
  const icu = like.provider === 'i';
  return [
    `CREATE DATABASE ${quoteIdent(name)} WITH TEMPLATE template0 OWNER ${quoteIdent(like.owner)}`,
    `ENCODING ${quoteLiteral(like.encoding)} LC_COLLATE ${quoteLiteral(like.collate)} LC_CTYPE ${quoteLiteral(like.ctype)}`,
    `LOCALE_PROVIDER ${icu ? 'icu' : 'libc'}${icu && like.icuLocale ? ` ICU_LOCALE ${quoteLiteral(like.icuLocale)}` : ''}`,
  ].join(' ');
}

/**
 * The roles a database's objects name (owners of schemas, relations, functions, types and the
 * database itself; grantees of their privileges and of default privileges), run in that
 * database. pg_restore keeps owners and grants, so each must exist where the copy goes.
 */
export const referencedRolesSql = `
  WITH ids AS (
    SELECT nspowner AS id FROM pg_namespace UNION SELECT relowner FROM pg_class
    UNION SELECT proowner FROM pg_proc UNION SELECT typowner FROM pg_type
    UNION SELECT datdba FROM pg_database WHERE datname = current_database()
    UNION SELECT defaclrole FROM pg_default_acl
    UNION SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relacl IS NOT NULL
    UNION SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspacl IS NOT NULL
    UNION SELECT (aclexplode(proacl)).grantee FROM pg_proc WHERE proacl IS NOT NULL
    UNION SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl)
  SELECT r.rolname FROM ids JOIN pg_roles r ON r.oid = ids.id ORDER BY 1`;

/** The roles of $1 (text[]) that exist here. */
export const existingRolesSql = `SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])`;

/** Database-wide settings (ALTER DATABASE … SET) of the current database; pg_dump without --create does not carry them. */
export const databaseSettingsSql = `
  SELECT unnest(s.setconfig) AS setting FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
   WHERE d.datname = current_database() AND s.setrole = 0`;

/** `name=value` from pg_db_role_setting → ALTER DATABASE … SET; null for a name that is not a plain setting name. */
export function alterDatabaseSetSql(database: string, setting: string): string | null {
  const equals = setting.indexOf('=');
  const name = setting.slice(0, equals);
  if (equals < 1 || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) return null;
  return `ALTER DATABASE ${quoteIdent(database)} SET ${name} TO ${quoteLiteral(setting.slice(equals + 1))}`;
}

/**
 * The comment a verified copy gets, for people looking at the databases. Never proof: anyone with
 * COMMENT rights on production can write it, so the swap checks recover-bot's own record of the
 * copy instead (copy-records.ts).
 */
export const MARKER_PREFIX = 'recover-bot: verified copy of ';

export function copyMarker(original: string, target: string): string {
  return `${MARKER_PREFIX}${original} at ${target}`;
}

export function commentOnDatabaseSql(database: string, comment: string): string {
  return `COMMENT ON DATABASE ${quoteIdent(database)} IS ${quoteLiteral(comment)}`;
}

export function allowConnectionsSql(database: string, allow: boolean): string {
  return `ALTER DATABASE ${quoteIdent(database)} ALLOW_CONNECTIONS ${allow ? 'true' : 'false'}`;
}

/** Ends every other session of the databases in $1 (text[]); returns how many. */
export const terminateSessionsSql = `
  SELECT count(*)::int AS terminated FROM (
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()) t`;

/** Sessions still open on the databases in $1 (text[]). */
export const openSessionsSql = `SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()`;

export function renameDatabaseSql(from: string, to: string): string {
  return `ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`;
}

/** An empty database from template0 (pg_dumpall leaves postgres and template1 to exist: restored under a new name, it is made first). */
export function createEmptyDatabaseSql(name: string): string {
  return `CREATE DATABASE ${quoteIdent(name)} WITH TEMPLATE template0`;
}

export function dropDatabaseSql(name: string): string {
  return `DROP DATABASE ${quoteIdent(name)}`;
}
