/**
 * The .sql files in ./migrations are the source of truth for the control-DB schema; a bundled
 * build cannot read them from disk, so `migrations.ts` carries the same text as string
 * literals. This module renders that file. Regenerate after editing a migration with:
 *
 *   npx tsx src/control/migrations-source.ts
 *
 * test/unit/control/migrations.test.ts fails when the two disagree.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MigrationFile {
  fileName: string;
  sql: string;
}

const MIGRATION_FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** `0002_jobs.sql` → `{ version: 2, name: '0002_jobs' }`, or null for other files. */
export function parseMigrationFileName(fileName: string): { version: number; name: string } | null {
  const match = MIGRATION_FILE_NAME.exec(fileName);
  if (!match?.[1]) return null;
  return { version: Number(match[1]), name: fileName.slice(0, -'.sql'.length) };
}

export function renderMigrationsModule(files: readonly MigrationFile[]): string {
  const entries = [...files]
    .sort((a, b) => a.fileName.localeCompare(b.fileName))
    .map((file) => {
      const parsed = parseMigrationFileName(file.fileName);
      if (!parsed) throw new Error(`not a migration file name: ${file.fileName}`);
      return [
        '  {',
        `    version: ${parsed.version},`,
        `    name: ${JSON.stringify(parsed.name)},`,
        `    sql: ${JSON.stringify(file.sql)},`,
        '  },',
      ].join('\n');
    });
  return [
    '// Generated from src/control/migrations/*.sql by `npx tsx src/control/migrations-source.ts`.',
    '// Edit the .sql files, not this one.',
    "import type { Migration } from './migrate.js';",
    '',
    'export const MIGRATIONS: readonly Migration[] = [',
    ...entries,
    '];',
    '',
  ].join('\n');
}

export function migrationsDirectory(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
}

export async function readMigrationFiles(directory = migrationsDirectory()): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => parseMigrationFileName(name) !== null);
  names.sort();
  return Promise.all(
    names.map(async (fileName) => ({ fileName, sql: await readFile(path.join(directory, fileName), 'utf8') })),
  );
}

async function writeMigrationsModule(): Promise<void> {
  const files = await readMigrationFiles();
  const target = path.join(path.dirname(migrationsDirectory()), 'migrations.ts');
  await writeFile(target, renderMigrationsModule(files));
  process.stdout.write(`wrote ${target} (${files.length} migrations)\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeMigrationsModule();
}
