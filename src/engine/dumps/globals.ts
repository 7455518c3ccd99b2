/**
 * The globals of a dump run (`pg_dumpall --globals-only`: roles, their settings and memberships,
 * tablespaces), read and cut down for a target server (pure, tested as tables). pg_dumpall writes
 * one statement per line; a role or tablespace the target already has is left exactly as it is
 * there (its CREATE, ALTER and COMMENT lines are dropped: no password or attribute of an existing
 * role is ever changed), so only what is missing is created. Memberships are granted again
 * (GRANT of an existing membership is a no-op). psql's meta-commands are left out.
 */

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const roleLine = new RegExp(String.raw`^(?:CREATE ROLE|ALTER ROLE|COMMENT ON ROLE) ${IDENT}[ ;]`);
const tablespaceLine = new RegExp(String.raw`^(?:CREATE TABLESPACE|ALTER TABLESPACE|COMMENT ON TABLESPACE) ${IDENT}[ ;]`);
const createRole = new RegExp(String.raw`^CREATE ROLE ${IDENT};`);
const createTablespace = new RegExp(String.raw`^CREATE TABLESPACE ${IDENT} `);

/** `"My Role"` → `My Role`; plain names as they are (pg_dumpall quotes any name that needs it). */
export function unquoteIdent(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text;
}

export interface Globals {
  roles: string[];
  tablespaces: string[];
}

/** The roles and tablespaces globals.sql creates. */
export function parseGlobals(sql: string): Globals {
  const roles: string[] = [];
  const tablespaces: string[] = [];
  for (const line of sql.split('\n')) {
    const role = createRole.exec(line);
    if (role) roles.push(unquoteIdent(role[1]!));
    const tablespace = createTablespace.exec(line);
    if (tablespace) tablespaces.push(unquoteIdent(tablespace[1]!));
  }
  return { roles, tablespaces };
}

/**
 * The statements to run on a target that already has `existing` roles and tablespaces: every
 * statement of globals.sql except those about an existing role or tablespace, and except
 * comments and blank lines. Each is one line (pg_dumpall's layout), run one at a time (CREATE
 * TABLESPACE cannot run in a transaction block).
 */
export function globalsStatements(sql: string, existing: { roles: ReadonlySet<string>; tablespaces: ReadonlySet<string> }): string[] {
  const statements: string[] = [];
  let pending = '';
  for (const line of sql.split('\n')) {
    // psql's meta-commands (`\restrict <key>` … `\unrestrict <key>` around the script since 15.14) are for psql, not the server.
    if (pending === '' && (line.trim() === '' || line.startsWith('--') || line.startsWith('\\'))) continue;
    // A statement whose value holds a newline (a comment's text) goes on until a line ends it.
    pending = pending === '' ? line : `${pending}\n${line}`;
    if (!line.endsWith(';')) continue;
    const statement = pending;
    pending = '';
    const role = roleLine.exec(statement);
    if (role && existing.roles.has(unquoteIdent(role[1]!))) continue;
    const tablespace = tablespaceLine.exec(statement);
    if (tablespace && existing.tablespaces.has(unquoteIdent(tablespace[1]!))) continue;
    statements.push(statement);
  }
  return statements;
}

/** What a statement is, for a log or an error, without its values (a role's password stays out). */
export function statementHead(statement: string): string {
  return statement.split(' ').slice(0, 3).join(' ').replace(/;$/, '');
}
