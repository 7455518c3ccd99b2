/**
 * The shape of the code, checked from its imports (see ARCHITECTURE.md, "Where code lives"):
 * (a) no import cycle between top-level units, (b) shipped code (src/, commands/) never
 * imports test or demo infrastructure (devkit/, test/), (c) no file over MAX_LINES lines.
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
});
