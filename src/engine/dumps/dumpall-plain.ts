/**
 * A foreign `pg_dumpall` file (plain SQL) read into what a restore needs (pure, line by line,
 * tested as tables): the globals (roles, tablespaces: everything before the first `\connect`),
 * and per database its CREATE DATABASE, the statements that name it (ALTER/COMMENT/GRANT … ON
 * DATABASE, ALTER ROLE … IN DATABASE: run by the restore itself, under the database's new name)
 * and its body (everything after its `\connect`, handed to `sink` for psql), with the rows of
 * each COPY counted: a plain dump's only row counts. Refused (a precise line each): a file
 * without pg_dumpall's header, any psql meta-command but those pg_dumpall writes (psql-lexer.ts),
 * COPY other than FROM stdin (server files and PROGRAM), DROP DATABASE/ROLE/TABLESPACE (made with
 * --clean), a change of standard_conforming_strings (it changes how psql reads quotes), a
 * statement naming a database the file does not hold, before the first `\connect` anything but
 * roles, memberships and tablespaces, and in a database's part a role, tablespace or ALTER SYSTEM
 * statement. The rest of the file's SQL is taken as pg_dumpall's: it runs as the restoring role.
 */
import { unquoteIdent } from './globals.js';
import { PsqlLexer, type MetaRefusal } from './psql-lexer.js';

export const DUMPALL_HEADER = '-- PostgreSQL database cluster dump';

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)`;
/** Statements that name a database, the name's capture group being the last one. */
const DATABASE_REFERENCES = [
  new RegExp(String.raw`^(CREATE DATABASE )${IDENT}`, 'i'),
  new RegExp(String.raw`^(ALTER DATABASE )${IDENT}`, 'i'),
  new RegExp(String.raw`^(COMMENT ON DATABASE )${IDENT}`, 'i'),
  new RegExp(String.raw`^(SECURITY LABEL (?:FOR \S+ )?ON DATABASE )${IDENT}`, 'i'),
  new RegExp(String.raw`^((?:GRANT|REVOKE) [^;]*? ON DATABASE )${IDENT}`, 'i'),
  new RegExp(String.raw`^(ALTER ROLE ${IDENT.replace('(', '(?:')} IN DATABASE )${IDENT}`, 'i'),
];

/** An identifier as the server folds it: quoted as written, unquoted in lower case. */
export const identName = (token: string) => (token.startsWith('"') ? unquoteIdent(token) : token.toLowerCase());

/** The database a statement names, and where its name stands (pure); null: none. */
export function databaseReference(statement: string): { name: string; start: number; end: number; create: boolean } | null {
  for (const [index, pattern] of DATABASE_REFERENCES.entries()) {
    const match = pattern.exec(statement);
    if (match) {
      const token = match[2]!;
      return { name: identName(token), start: match[1]!.length, end: match[1]!.length + token.length, create: index === 0 };
    }
  }
  return null;
}

/** The statement naming `newName` (quoted) where it named its database (pure). */
export function renameDatabaseIn(statement: string, newName: string): string {
  const ref = databaseReference(statement);
  if (!ref) return statement;
  return `${statement.slice(0, ref.start)}"${newName.replace(/"/g, '""')}"${statement.slice(ref.end)}`;
}

export interface PlainDatabase {
  name: string;
  /** pg_dumpall's CREATE DATABASE (null: template1 and postgres, which it expects to exist). */
  create: string | null;
  /** ALTER/COMMENT/GRANT … DATABASE and ALTER ROLE … IN DATABASE, naming this one, in order. */
  databaseStatements: string[];
  /** Statements of its body beyond the session settings pg_dump starts each with. */
  bodyStatements: number;
  /** COPY … FROM stdin of each table (named as verify.ts names tables) and its data lines. */
  copyRows: Record<string, number>;
  /** Tables loaded by INSERT (pg_dumpall --inserts): no row count to compare. */
  insertTables: string[];
}

export interface PlainDumpall {
  headerOk: boolean;
  globalsSql: string;
  databases: PlainDatabase[];
  refusals: MetaRefusal[];
}

const SESSION_SETTING = /^(SET |SELECT pg_catalog\.set_config\()/i;
const GLOBALS_STATEMENT = /^(SET |SELECT pg_catalog\.set_config\(|(CREATE|ALTER|COMMENT ON) (ROLE|TABLESPACE) |GRANT |REVOKE |SECURITY LABEL (FOR \S+ )?ON (ROLE|TABLESPACE) )/i;
const CLUSTER_WIDE = /^((CREATE|ALTER|DROP) (ROLE|USER|GROUP|TABLESPACE)\b|ALTER SYSTEM\b)/i;
const COPY_TABLE = new RegExp(String.raw`^COPY ${IDENT}\.${IDENT}[ (]`, 'i');
const INSERT_TABLE = new RegExp(String.raw`^INSERT INTO ${IDENT}\.${IDENT}[ (]`, 'i');
const tableName = (schema: string, table: string) => (identName(schema) === 'public' ? identName(table) : `${identName(schema)}.${identName(table)}`);

/** `\connect` as pg_dumpall writes it: `\connect name` or `\connect -reuse-previous=on "dbname='…'"` (pure); null: another form. */
export function connectTarget(args: string): string | null {
  if (/^[A-Za-z0-9_$]+$/.test(args)) return args;
  const quoted = /^-reuse-previous=on "((?:[^"]|"")*)"$/.exec(args);
  const conninfo = quoted?.[1]?.replace(/""/g, '"');
  const value = conninfo ? /^dbname='((?:[^'\\]|\\.)*)'$/.exec(conninfo)?.[1] : undefined;
  return value === undefined ? null : value.replace(/\\(.)/g, '$1');
}

/**
 * Reads a pg_dumpall file line by line. `sink(database, text)` receives each database's body
 * (statements and COPY data, each ending in a newline) as it is read; nothing is kept of it here.
 */
export class DumpallReader {
  private readonly lexer = new PsqlLexer();
  private readonly result: PlainDumpall = { headerOk: false, globalsSql: '', databases: [], refusals: [] };
  private current: PlainDatabase | null = null;
  private copying: { db: PlainDatabase; table: string | null } | null = null;
  private readonly referenced: { name: string; line: number; text: string }[] = [];
  private lines = 0;

  constructor(private readonly sink: (database: string, text: string) => void = () => undefined) {}

  push(line: string): void {
    this.lines += 1;
    if (this.lines <= 5 && line.trim() === DUMPALL_HEADER) this.result.headerOk = true;
    if (this.lines > 5 && !this.result.headerOk) return;
    for (const event of this.lexer.push(line)) {
      if (event.kind === 'copy-row') {
        if (this.copying?.table) this.copying.db.copyRows[this.copying.table] = (this.copying.db.copyRows[this.copying.table] ?? 0) + 1;
        if (this.copying) this.sink(this.copying.db.name, `${line}\n`);
      } else if (event.kind === 'copy-end') {
        if (this.copying) this.sink(this.copying.db.name, '\\.\n');
        this.copying = null;
      } else if (event.kind === 'meta') {
        if (event.command === 'connect' || event.command === 'c') {
          const name = connectTarget(event.args);
          if (name === null) this.refuse(event.line, '\\connect', `a form pg_dumpall does not write (${event.args.slice(0, 60)})`);
          else this.current = this.database(name);
        }
        // \restrict, \unrestrict and \encoding are psql's own; the restore runs psql under its own key and sets the encoding per session.
      } else {
        this.statement(event.text, event.line);
      }
    }
  }

  /** pg_dumpall's header was among the first lines. */
  headerSeen(): boolean {
    return this.result.headerOk;
  }

  end(): PlainDumpall {
    this.lexer.end();
    const names = new Set(this.result.databases.map((db) => db.name));
    for (const ref of this.referenced) {
      if (names.has(ref.name)) this.database(ref.name).databaseStatements.push(ref.text);
      else this.refuse(ref.line, '(statement)', `it names database ${ref.name}, which this file does not hold`);
    }
    if (!this.result.headerOk) this.refuse(1, '(header)', `not a pg_dumpall file: "${DUMPALL_HEADER.slice(3)}" is not in its first lines`);
    return { ...this.result, refusals: [...this.lexer.refusals, ...this.result.refusals].sort((a, b) => a.line - b.line) };
  }

  private database(name: string): PlainDatabase {
    let db = this.result.databases.find((entry) => entry.name === name);
    if (!db) {
      db = { name, create: null, databaseStatements: [], bodyStatements: 0, copyRows: {}, insertTables: [] };
      this.result.databases.push(db);
    }
    return db;
  }

  private refuse(line: number, command: string, why: string) {
    this.result.refusals.push({ line, command, why });
  }

  private statement(text: string, line: number) {
    const head = text.replace(/\s+/g, ' ');
    if (/^COPY /i.test(head) && !/\sFROM stdin\s*;$/i.test(head)) this.refuse(line, 'COPY', 'only COPY … FROM stdin is restored (a server file or PROGRAM would be read or run on the server)');
    if (/^DROP (DATABASE|ROLE|USER|GROUP|TABLESPACE)\b/i.test(head)) this.refuse(line, head.split(' ').slice(0, 2).join(' '), 'the file drops what exists (pg_dumpall --clean); take it without --clean');
    if (/standard_conforming_strings/i.test(head) && !/^SET standard_conforming_strings = on;$/i.test(head)) this.refuse(line, '(statement)', 'it changes standard_conforming_strings (how psql reads quotes)');
    if (/^ALTER DATABASE \S+ RENAME\b/i.test(head)) this.refuse(line, 'a rename (ALTER DATABASE … RENAME)', 'a dump does not rename databases');
    const ref = databaseReference(head);
    if (ref) {
      // Only CREATE DATABASE and \connect make a database of the file; the others must name one of them (checked at the end).
      if (ref.create) this.database(ref.name).create = text;
      else this.referenced.push({ name: ref.name, line, text });
      return;
    }
    if (!this.current) {
      // The globals run on the target's postgres database: only what pg_dumpall writes there.
      if (!GLOBALS_STATEMENT.test(head)) this.refuse(line, head.split(' ').slice(0, 2).join(' '), 'before any \\connect pg_dumpall writes only roles, memberships and tablespaces');
      this.result.globalsSql += `${text}\n`;
      return;
    }
    if (CLUSTER_WIDE.test(head)) this.refuse(line, head.split(' ').slice(0, 2).join(' '), 'a database\'s part changes the whole server (pg_dump writes no role, tablespace or ALTER SYSTEM statement)');
    const db = this.current;
    if (!SESSION_SETTING.test(head)) db.bodyStatements += 1;
    const copy = COPY_TABLE.exec(head);
    if (/^COPY [\s\S]*\sFROM stdin\s*;$/i.test(head)) {
      this.copying = { db, table: copy ? tableName(copy[1]!, copy[2]!) : null };
      if (this.copying.table) db.copyRows[this.copying.table] = db.copyRows[this.copying.table] ?? 0;
    }
    const insert = INSERT_TABLE.exec(head);
    if (insert && !db.insertTables.includes(tableName(insert[1]!, insert[2]!))) db.insertTables.push(tableName(insert[1]!, insert[2]!));
    this.sink(db.name, `${text}\n`);
  }
}

/** A whole file read at once (for tests and small files). */
export function readDumpall(text: string, sink?: (database: string, text: string) => void): PlainDumpall {
  const reader = new DumpallReader(sink);
  for (const line of text.split('\n')) reader.push(line);
  return reader.end();
}

/** Databases with something to restore (pure): pg_dumpall's empty template1 and postgres are not. */
export const restorableDatabases = (dump: PlainDumpall) => dump.databases.filter((db) => db.create !== null || db.bodyStatements > 0 || db.databaseStatements.length > 0);
