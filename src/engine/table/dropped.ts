/**
 * as-new of a table production no longer has (dropped): the table is created in production
 * from the side copy's own definition, in ONE production transaction, refused if the name (or
 * the original name) exists there:
 *   1. `pg_dump --schema-only --table` of it from the side instance (custom format, on the
 *      runner as the postgres user), its foreign keys left out (`pg_restore -l` / `-L`), both
 *      sections turned into SQL (`pg_restore --section pre-data | post-data -f -`);
 *   2. pre-data (the table: columns, types, defaults, NOT NULL, CHECK, generated and identity
 *      columns, owned sequences, owner, grants, comments) under its original name, the side
 *      copy's rows, then post-data (primary key, unique constraints, indexes, triggers);
 *   3. each foreign key added NOT VALID and validated in a savepoint: kept when every row holds,
 *      else rolled back to the savepoint and listed with PostgreSQL's reason;
 *   4. renamed to the requested name when it is another (its indexes and owned sequences too:
 *      `<table>_pkey` → `<name>_pkey`, so the original names stay free); sequences moved past
 *      the copied ids.
 * A failure rolls the whole transaction back: production is unchanged.
 */
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { openSideInstance, removeTree } from '../instances.js';
import { makeOwnedDir, writeOwnedFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import type { TargetConnection } from '../pg-client.js';
import type { RestoreConfig } from '../restore-to-target.js';
import { tableName } from '../rows/rows-sql.js';
import { displayName, readTable } from '../rows/table.js';
import { changed, eachPage, inTransaction, moveSequences, type AsNewResult } from './apply.js';
import { modeDigest, outgoingKeys } from './compare.js';
import { addForeignKeySql, dumpListArgs, dumpSectionArgs, dumpSql, entriesWithoutForeignKeys, insertAllSql, ownedRelationsSql, renameOwnedSql, renameTableSql, tableDefinitionDumpArgs, validateConstraintSql } from './dropped-sql.js';
import { contentSql, relationExistsSql } from './table-sql.js';

/** The table's definition as SQL to run in production: before the rows, and after them. */
export interface TableDefinition {
  preData: string;
  postData: string;
}

/** The side copy's definition of the table (no foreign keys), dumped on the runner; the dump is removed afterwards. */
export async function dumpTableDefinition(ctx: EngineContext, config: RestoreConfig, instanceName: string, side: TargetConnection, table: { schema: string; name: string }): Promise<TableDefinition> {
  const owner = await ownerFor(config.pg.osUser);
  // Inside the instance only once it is checked (not a symlink to somewhere else); removed without following symlinks.
  const dir = join((await openSideInstance(config, instanceName)).workDir, 'table-definition');
  const run = async ([file, args]: [string, string[]]) => (await ctx.exec.run(file, args, { asUser: config.pg.osUser, signal: ctx.signal, timeoutMs: 10 * 60_000 })).stdout;
  await removeTree(ctx.exec, dir);
  await makeOwnedDir(dir, owner);
  try {
    const dump = join(dir, 'table.dump');
    const list = join(dir, 'table.list');
    await run(tableDefinitionDumpArgs(config.pg.bin, { host: String(side.host), port: Number(side.port), user: String(side.user ?? 'postgres'), dbname: String(side.database) }, table, dump));
    await writeOwnedFile(list, entriesWithoutForeignKeys(await run(dumpListArgs(config.pg.bin, dump)), table), owner);
    return { preData: dumpSql(await run(dumpSectionArgs(config.pg.bin, dump, list, 'pre-data'))), postData: dumpSql(await run(dumpSectionArgs(config.pg.bin, dump, list, 'post-data'))) };
  } finally {
    await removeTree(ctx.exec, dir);
  }
}

export async function copyDropped(sideConnection: TargetConnection, productionConnection: TargetConnection, name: string, newName: string, definition: TableDefinition, expectDigest: string): Promise<AsNewResult> {
  return inTransaction(sideConnection, productionConnection, async (side, production) => {
    const copy = await readTable(side, name, 'the side instance');
    const original = { schema: copy.schema, name: copy.name };
    for (const taken of new Set([copy.name, newName])) {
      if ((await production.query<{ exists: boolean }>(relationExistsSql, [tableName(copy.schema, taken)])).rows[0]!.exists) {
        throw new RecoverError('COMMAND_FAILED', `${displayName({ schema: copy.schema, name: taken })} exists in production now (it did not when this was approved); nothing was written.`, { hint: 'Plan again: the comparison will show the table as it is now.' });
      }
    }
    const content = (await side.query<{ rows: string; hash: string }>(contentSql(copy))).rows[0]!;
    if (modeDigest({ kind: 'as-new', name: newName }, { basis: 'dropped', sideRows: Number(content.rows), sideHash: content.hash, productionRows: 0, missing: 0, present: 0, different: 0, references: [] }) !== expectDigest) throw changed('side copy');
    // The dump sets search_path to '' for itself; our own statements name everything qualified, and it is reset after.
    await production.query(definition.preData);
    await production.query('RESET search_path');
    const created = await readTable(production, tableName(original.schema, original.name), 'production');
    let rows = 0;
    await eachPage(side, copy, async (page) => {
      rows += (await production.query(insertAllSql(created), [`[${page.join(',')}]`])).rowCount ?? 0;
    });
    await production.query(definition.postData);
    await production.query('RESET search_path');
    const foreignKeys: NonNullable<AsNewResult['foreignKeys']> = [];
    for (const key of await outgoingKeys(side, copy)) {
      await production.query('SAVEPOINT recover_fk');
      try {
        await production.query(addForeignKeySql(original, key));
        if (key.validated) await production.query(validateConstraintSql(original, key.constraint));
        await production.query('RELEASE SAVEPOINT recover_fk');
        foreignKeys.push({ constraint: key.constraint, references: displayName(key.references), recreated: true, why: null });
      } catch (error) {
        await production.query('ROLLBACK TO SAVEPOINT recover_fk');
        foreignKeys.push({ constraint: key.constraint, references: displayName(key.references), recreated: false, why: (error as Error).message });
      }
    }
    if (newName !== original.name) {
      // Indexes and owned sequences carry the original's names, free now but wanted back if the table is restored under its own name later.
      for (const relation of (await production.query<{ name: string; kind: string }>(ownedRelationsSql, [tableName(original.schema, original.name)])).rows) {
        await production.query(renameOwnedSql(original.schema, original.name, newName, relation));
      }
      await production.query(renameTableSql(original, newName));
    }
    const restored = await readTable(production, tableName(original.schema, newName), 'production');
    const sequences = await moveSequences(production, restored);
    return { table: displayName(original), created: displayName(restored), rows, liveRows: null, sequences, foreignKeys };
  });
}

