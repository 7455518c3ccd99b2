import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertWellNumbered } from '../../../src/control/migrate.js';
import {
  parseMigrationFileName,
  readMigrationFiles,
  renderMigrationsModule,
} from '../../../src/control/migrations-source.js';
import { MIGRATIONS } from '../../../src/control/migrations.js';

const REGENERATE = 'run `npx tsx src/control/migrations-source.ts` after editing a .sql migration';

describe('bundled migrations', () => {
  it('equal the .sql files, in order', async () => {
    const files = await readMigrationFiles();
    expect(files.length).toBeGreaterThan(0);
    expect(
      MIGRATIONS.map((m) => ({ name: m.name, sql: m.sql })),
      REGENERATE,
    ).toEqual(files.map((f) => ({ name: f.fileName.replace(/\.sql$/, ''), sql: f.sql })));
  });

  it('migrations.ts is exactly what the generator writes', async () => {
    const files = await readMigrationFiles();
    const onDisk = await readFile(path.resolve('src/control/migrations.ts'), 'utf8');
    expect(onDisk, REGENERATE).toBe(renderMigrationsModule(files));
  });

  it('are numbered 1, 2, 3… without gaps', () => {
    expect(() => assertWellNumbered(MIGRATIONS)).not.toThrow();
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
  });

  it('refuses gaps and disorder', () => {
    expect(() => assertWellNumbered([{ version: 2, name: '0002_x', sql: '' }])).toThrow(/expected 1/);
  });
});

describe('parseMigrationFileName', () => {
  it.each([
    ['0001_requests.sql', { version: 1, name: '0001_requests' }],
    ['0012_add_index_2.sql', { version: 12, name: '0012_add_index_2' }],
    ['README.md', null],
    ['1_short.sql', null],
    ['0003_Upper.sql', null],
  ])('%s', (fileName, expected) => {
    expect(parseMigrationFileName(fileName)).toEqual(expected);
  });
});
