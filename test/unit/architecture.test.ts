/**
 * The shape of the code, checked from its imports (see ARCHITECTURE.md, "Where code lives"):
 * (a) no import cycle between top-level units, (b) shipped code (src/, commands/) never
 * imports test or demo infrastructure (devkit/, test/), (c) no file over MAX_LINES lines,
 * (d) statements that change a database are built only in the production write builders,
 * (e) every runner command that writes to production or names a table calls the target guard.
 *
 * A unit is a folder under src/ (src/engine, src/slack, …), a file at src/'s root together
 * with the folder of the same name if there is one (src/config.ts + src/config/ is
 * `src/config`; src/errors.ts is `src/errors`), `commands` or `devkit`. Root files are units
 * of their own because they are different layers: errors.ts, log.ts and types.ts sit below
 * util/, config.ts above it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCANNED = ['src', 'commands', 'devkit'];
const MAX_LINES = 300;

interface SourceFile {
  /** Repository-relative, with forward slashes. */
  path: string;
  text: string;
}

interface ImportEdge {
  from: string;
  to: string;
  specifier: string;
}

function listTs(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listTs(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function readSources(dirs: readonly string[] = SCANNED): SourceFile[] {
  return dirs.flatMap(listTs).map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

/** Every module specifier of one file: imports, `export … from`, side-effect and dynamic imports (from the syntax tree). */
function moduleSpecifiers(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Relative imports of one file, resolved to repository paths. */
function relativeImports(file: SourceFile): ImportEdge[] {
  return moduleSpecifiers(file)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => {
      const absolute = resolve(ROOT, dirname(file.path), specifier).replace(/\.js$/, '.ts');
      return { from: file.path, to: relative(ROOT, absolute).split(sep).join('/'), specifier };
    });
}

/** The top-level unit a repository path belongs to (see the header). */
function unitOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] !== 'src') return parts[0]!;
  if (parts.length === 2) return `src/${parts[1]!.replace(/\.(ts|js)$/, '')}`;
  return `src/${parts[1]}`;
}

/** Every cycle between units (strongly connected components of more than one unit), each with the imports that close it. */
function unitCycles(edges: readonly ImportEdge[]): Array<{ units: string[]; imports: string[] }> {
  const graph = new Map<string, Map<string, ImportEdge[]>>();
  for (const edge of edges) {
    const [a, b] = [unitOf(edge.from), unitOf(edge.to)];
    if (!graph.has(b)) graph.set(b, new Map());
    if (a === b) continue;
    const out = graph.get(a) ?? new Map<string, ImportEdge[]>();
    graph.set(a, out);
    out.set(b, [...(out.get(b) ?? []), edge]);
  }
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (unit: string): void => {
    index.set(unit, counter);
    low.set(unit, counter);
    counter++;
    stack.push(unit);
    onStack.add(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit)!, index.get(next)!));
      }
    }
    if (low.get(unit) === index.get(unit)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== unit);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const unit of [...graph.keys()].sort()) if (!index.has(unit)) visit(unit);
  return components.map((units) => ({
    units,
    imports: units.flatMap((a) =>
      units.flatMap((b) => (graph.get(a)?.get(b) ?? []).map((e) => `${e.from} → ${e.specifier} (${a} → ${b})`)),
    ),
  }));
}

/** Imports from shipped code (src/, commands/) into test or demo infrastructure. */
function shippedImportingDevkit(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => /^(src|commands)\//.test(e.from) && /^(devkit|test)\//.test(e.to))
    .map((e) => `${e.from} → ${e.specifier}`);
}

function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function longFiles(files: readonly SourceFile[], max = MAX_LINES): string[] {
  return files.filter((f) => lineCount(f.text) > max).map((f) => `${f.path} (${lineCount(f.text)} lines)`);
}


/**
 * (d) Statements that change a database (DML and DDL: INSERT, UPDATE, DELETE, TRUNCATE, MERGE,
 * ALTER, DROP, CREATE, COMMENT ON, GRANT, REVOKE, LOCK, COPY … FROM) are built only in the pure
 * builder files below, whose callers resolve their tables through the target guard
 * (src/engine/targets: never a catalog, an extension's table, a view, template1 …). A string
 * literal anywhere else in src/ or commands/ that starts like one fails the check. The control
 * DB's own tables (src/control) are not production: control imports only errors and types,
 * so it cannot reach a production connection.
 */
const PRODUCTION_WRITE_BUILDERS = ['src/engine/rows/statements.ts', 'src/engine/table/table-sql.ts', 'src/engine/table/dropped-sql.ts', 'src/engine/database/sql.ts'];
const WRITE_TEXT_ALLOWED: readonly { path: string; starts?: string; why: string }[] = [
  ...PRODUCTION_WRITE_BUILDERS.map((path) => ({ path, why: 'a production write builder: its tables come from the guarded readTable, its databases from the guarded database command' })),
  { path: 'src/engine/integrity/sql.ts', starts: 'CREATE EXTENSION IF NOT EXISTS amcheck', why: 'the integrity checker, on side instances (production only when configured)' },
  { path: 'src/engine/backup.ts', starts: 'GRANT EXECUTE ON FUNCTION pg_switch_wal()', why: 'a hint people run by hand, never executed' },
  { path: 'src/cli/setup-sql.ts', why: '`recover setup-sql`: roles and grants printed for people to run, never executed' },
  { path: 'src/engine/dumps/parallel/load-sql.ts', why: 'the dump loader: only inside the new database the job just created (the dump\'s own statements, its rows\' TRUNCATE + COPY FREEZE), never an existing one' },
];
const NOT_PRODUCTION = /^src\/control\//;
const WRITE_TEXT = /^\s*(INSERT\s+INTO\b|UPDATE\s+\S+[\s\S]*\bSET\b|DELETE\s+FROM\b|TRUNCATE\s+(TABLE\s+|ONLY\s+)?[A-Za-z_"$]|MERGE\s+INTO\b|ALTER\s+[A-Z]|DROP\s+[A-Z]|CREATE\s+[A-Z]|COMMENT\s+ON\b|GRANT\s+[A-Z]|REVOKE\s+[A-Z]|LOCK\s+(TABLE\s+)?[A-Za-z_"$]|COPY\s+\S+[\s\S]*\bFROM\b|WITH\b[\s\S]*\b(INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\S+[\s\S]*\bSET)\b)/;

/** Every string literal and template literal of a file (a template's substitutions shown as `${}`) that reads like a statement changing a database. */
function writeStatements(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    let text: string | null = null;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((span) => '${}' + span.literal.text).join('');
    if (text !== null && WRITE_TEXT.test(text)) found.push(text.trim());
    if (!ts.isTemplateExpression(node)) ts.forEachChild(node, visit);
    else node.templateSpans.forEach((span) => visit(span.expression));
  };
  visit(source);
  return found;
}

/** Statements changing a database built outside the allowed builder files: `path: statement`. */
function writesOutsideBuilders(files: readonly SourceFile[]): string[] {
  return files
    .filter((f) => /^(src|commands)\//.test(f.path) && !NOT_PRODUCTION.test(f.path))
    .flatMap((f) => writeStatements(f).filter((text) => !WRITE_TEXT_ALLOWED.some((a) => a.path === f.path && (a.starts === undefined || text.startsWith(a.starts)))).map((text) => `${f.path}: ${text.slice(0, 60)}`));
}

const GUARD = 'src/engine/targets/guard.ts';
/** The guarded resolver: every table the rows and table engines write is read through its readTable, which calls the guard. */
const GUARDED_RESOLVER = 'src/engine/rows/table.ts';
/** Resolving a table named by people in production (chooseDatabase, resolveTable). */
const NAMES_A_TABLE = 'src/engine/locate/relation.ts';

/** Every file `from` imports, directly or not (type imports included: over-approximating only asks for more guards). */
function importClosure(from: string, out: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    for (const next of out.get(stack.pop()!) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(next);
    }
  }
  return seen;
}

/** Relative imports that bring values (not `import type`), resolved: what a file can call. */
function valueImports(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return source.statements
    .filter((node): node is ts.ImportDeclaration => ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && !node.importClause?.isTypeOnly)
    .map((node) => (node.moduleSpecifier as ts.StringLiteral).text)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(ROOT, resolve(ROOT, dirname(file.path), specifier).replace(/\.js$/, '.ts')).split(sep).join('/'));
}

/**
 * (e) Every runner command that can write to production (its imports reach a write builder)
 * or names a table in production must import the guard itself and call it (`requireTarget…`)
 * in its own code, and every src/ file that imports a write builder must itself import (as a
 * value) the guard or the guarded resolver: a new command or engine path cannot forget it.
 */
function unguardedWriters(files: readonly SourceFile[], all: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  const out = new Map<string, string[]>();
  for (const edge of all) out.set(edge.from, [...(out.get(edge.from) ?? []), edge.to]);
  for (const file of files) {
    const direct = out.get(file.path) ?? [];
    const closure = importClosure(file.path, out);
    const reaches = PRODUCTION_WRITE_BUILDERS.filter((b) => closure.has(b));
    if (file.path.startsWith('commands/') && /home:\s*'runner'/.test(file.text) && (reaches.length > 0 || closure.has(NAMES_A_TABLE))) {
      if (!direct.includes(GUARD) || !/\brequireTarget\w*\(/.test(file.text)) problems.push(`${file.path}: a runner command reaching ${[...reaches, ...(closure.has(NAMES_A_TABLE) ? [NAMES_A_TABLE] : [])].join(', ')} must import ${GUARD} and call requireTarget…() in its gather/run`);
    }
    const values = valueImports(file);
    if (file.path.startsWith('src/') && !PRODUCTION_WRITE_BUILDERS.includes(file.path) && values.some((to) => PRODUCTION_WRITE_BUILDERS.includes(to)) && !values.includes(GUARD) && !values.includes(GUARDED_RESOLVER)) {
      problems.push(`${file.path}: imports a production write builder but neither ${GUARD} nor ${GUARDED_RESOLVER}`);
    }
  }
  return problems;
}

const sources = readSources();
const edges = sources.flatMap(relativeImports);

describe('architecture', () => {
  it('sees the code it checks', () => {
    expect(sources.some((f) => f.path === 'src/config.ts')).toBe(true);
    expect(sources.some((f) => f.path.startsWith('commands/'))).toBe(true);
    expect(sources.some((f) => f.path.startsWith('devkit/'))).toBe(true);
    expect(edges.length).toBeGreaterThan(100);
    // every relative import names a file that exists, so none is silently left out of the graph
    const paths = new Set(sources.map((f) => f.path));
    const dangling = edges.filter((e) => /^(src|commands|devkit)\//.test(e.to) && !paths.has(e.to)).map((e) => `${e.from} → ${e.specifier}`);
    expect(dangling).toEqual([]);
  });

  it('(a) has no import cycle between top-level units', () => {
    expect(unitCycles(edges)).toEqual([]);
  });

  it('(b) src/ and commands/ never import devkit/ or test/', () => {
    expect(shippedImportingDevkit(edges)).toEqual([]);
  });

  it(`(c) no file in src/, commands/ or devkit/ is over ${MAX_LINES} lines`, () => {
    expect(longFiles(sources)).toEqual([]);
  });

  it('(d) statements that change a database are built only in the production write builders (and the control DB)', () => {
    expect(writesOutsideBuilders(sources)).toEqual([]);
    // the builders are really there and really build writes, so the allow-list is not stale
    for (const path of PRODUCTION_WRITE_BUILDERS) expect(writeStatements(sources.find((f) => f.path === path)!).length, path).toBeGreaterThan(0);
  });

  it('(e) every runner command that writes to production or names a table goes through the target guard', () => {
    expect(unguardedWriters(sources, edges)).toEqual([]);
    const guarded = sources.filter((f) => f.path.startsWith('commands/') && edges.some((e) => e.from === f.path && e.to === GUARD)).map((f) => f.path);
    expect(guarded).toEqual(expect.arrayContaining(['commands/rows.ts', 'commands/table.ts', 'commands/locate.ts', 'commands/database.ts']));
  });
});

describe('the checks themselves', () => {
  const file = (path: string, text: string): SourceFile => ({ path, text });

  it('reads every kind of relative import and resolves it', () => {
    const found = relativeImports(
      file(
        'src/engine/x.ts',
        [
          "import a from './a.js';",
          "import type { B } from '../catalog/b.js';",
          "export * from './c.js';",
          "import './d.js';",
          "const e = await import('../wal/e.js');",
          "import { z } from 'zod';",
          "import { f } from 'node:fs';",
          "type G = import('../control/g.js').G;",
          // a regular expression and a template literal with quotes must not hide what follows
          "const quote = (n: string) => `\"${n.replace(/\"/g, '\"\"')}\"`;",
          "const sql = `SELECT coalesce(x, '') FROM ${quote('t')} t`;",
          "export { h } from '../util/h.js';",
        ].join('\n'),
      ),
    ).map((e) => e.to);
    expect(found).toEqual([
      'src/engine/a.ts',
      'src/catalog/b.ts',
      'src/engine/c.ts',
      'src/engine/d.ts',
      'src/wal/e.ts',
      'src/control/g.ts',
      'src/util/h.ts',
    ]);
  });

  it.each([
    ['src/engine/pitr.ts', 'src/engine'],
    ['src/slack/views/plan.ts', 'src/slack'],
    ['src/config.ts', 'src/config'],
    ['src/config/values.ts', 'src/config'],
    ['src/errors.ts', 'src/errors'],
    ['commands/pitr.ts', 'commands'],
    ['devkit/slack-standin/server.ts', 'devkit'],
    ['test/unit/x.test.ts', 'test'],
  ])('%s is in unit %s', (path, unit) => {
    expect(unitOf(path)).toBe(unit);
  });

  it('finds a cycle through three units, and none in a chain', () => {
    const chain = [
      file('src/util/a.ts', "import '../errors.js';"),
      file('src/catalog/b.ts', "import '../util/a.js';"),
      file('src/engine/c.ts', "import '../catalog/b.js';"),
    ].flatMap(relativeImports);
    expect(unitCycles(chain)).toEqual([]);
    const cycle = [...chain, ...relativeImports(file('src/util/z.ts', "import '../engine/c.js';"))];
    expect(unitCycles(cycle)).toEqual([
      {
        units: ['src/catalog', 'src/engine', 'src/util'],
        imports: [
          'src/catalog/b.ts → ../util/a.js (src/catalog → src/util)',
          'src/engine/c.ts → ../catalog/b.js (src/engine → src/catalog)',
          'src/util/z.ts → ../engine/c.js (src/util → src/engine)',
        ],
      },
    ]);
  });

  it('finds the real tree failing once a deliberately bad import is added', () => {
    // the engine importing the CLI closes engine → … → cli → engine; the runner importing devkit leaks it
    const bad = [
      file('src/engine/bad.ts', "import { main } from '../cli/main.js';"),
      file('src/runner/bad.ts', "import { startSandbox } from '../../devkit/sandbox.js';"),
      file('commands/bad.ts', "import '../test/support/run-cli.js';"),
    ];
    const withBad = [...edges, ...bad.flatMap(relativeImports)];
    expect(unitCycles(withBad).some((c) => c.units.includes('src/engine') && c.units.includes('src/cli'))).toBe(true);
    expect(shippedImportingDevkit(withBad)).toEqual(['src/runner/bad.ts → ../../devkit/sandbox.js', 'commands/bad.ts → ../test/support/run-cli.js']);
  });

  it('counts lines like wc -l and lists files over the limit', () => {
    expect(lineCount('')).toBe(0);
    expect(lineCount('a')).toBe(1);
    expect(lineCount('a\nb\n')).toBe(2);
    const long = file('src/x/long.ts', 'x;\n'.repeat(MAX_LINES + 1));
    expect(longFiles([long, file('src/x/ok.ts', 'x;\n'.repeat(MAX_LINES))])).toEqual([`src/x/long.ts (${MAX_LINES + 1} lines)`]);
  });

  it.each([
    ['INSERT INTO', "const sql = `INSERT INTO ${t} (a) VALUES ($1)`;"],
    ['DELETE FROM', "client.query('DELETE FROM pg_catalog.pg_database WHERE oid = $1', [x]);"],
    ['UPDATE … SET', "const u = `UPDATE ${quoteIdent(s)}.${quoteIdent(n)} AS t SET a = 1`;"],
    ['TRUNCATE', "await client.query(`TRUNCATE ${name}`);"],
    ['ALTER DATABASE', "const a = 'ALTER DATABASE template1 IS_TEMPLATE false';"],
    ['DROP TABLE', "const d = `\n  DROP TABLE ${x}`;"],
    ['a writing CTE', "const w = `WITH gone AS (DELETE FROM ${t} RETURNING 1) SELECT count(*) FROM gone`;"],
    ['LOCK', "const l = `LOCK ${t} IN EXCLUSIVE MODE`;"],
  ])('finds a statement that changes a database built outside the builders: %s', (_name, code) => {
    expect(writesOutsideBuilders([file('src/engine/new-command.ts', code)])).toHaveLength(1);
    expect(writesOutsideBuilders([file('commands/new.ts', code)])).toHaveLength(1);
    expect(writesOutsideBuilders([file('src/control/queue.ts', code)])).toEqual([]);
  });

  it('leaves words that only look like statements alone', () => {
    const code = [
      "const op = 'TRUNCATE';",
      "const shown = 'TRUNCATE (all rows)';",
      "const title = 'Create the new database on production';",
      "const hint = `drop it when done (DROP DATABASE \"${n}\")`;",
      "const read = `SELECT count(*) FROM ${t} WHERE updated_at > $1`;",
    ].join('\n');
    expect(writesOutsideBuilders([file('src/engine/x.ts', code)])).toEqual([]);
  });

  it('finds a runner command that writes to production (or names a table) without the guard, and an engine writer that cannot reach it', () => {
    const command = file('commands/purge.ts', "import { replaceSql } from '../src/engine/table/table-sql.js';\nexport const purge = { home: 'runner' };");
    const reader = file('commands/peek.ts', "import { chooseDatabase } from '../src/engine/locate/relation.js';\nexport const peek = { home: 'runner' };");
    const guardedCommand = file('commands/fine.ts', "import { replaceSql } from '../src/engine/table/table-sql.js';\nimport { requireTargetInDatabase } from '../src/engine/targets/guard.js';\nexport const fine = { home: 'runner', gather: () => requireTargetInDatabase() };");
    const engine = file('src/engine/purge/run.ts', "import { insertRowsSql } from '../rows/statements.js';");
    const extra = [command, reader, guardedCommand, engine];
    const problems = unguardedWriters([...sources, ...extra], [...edges, ...extra.flatMap(relativeImports)]);
    expect(problems).toEqual([
      expect.stringMatching(/^commands\/purge\.ts: a runner command reaching src\/engine\/table\/table-sql\.ts must import/),
      expect.stringMatching(/^commands\/peek\.ts: a runner command reaching src\/engine\/locate\/relation\.ts/),
      'src/engine/purge/run.ts: imports a production write builder but neither src/engine/targets/guard.ts nor src/engine/rows/table.ts',
    ]);
    // the real commands pass only because they call the guard: without the call, rows is found
    const rows = sources.find((f) => f.path === 'commands/rows.ts')!;
    const unguardedRows = { ...rows, text: rows.text.replace(/requireTarget\w*\(/g, 'skipped(') };
    expect(unguardedWriters([unguardedRows], edges)).toEqual([expect.stringMatching(/^commands\/rows\.ts: /)]);
  });
});
