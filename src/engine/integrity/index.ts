/**
 * The runbook's integrity checker (§6) for one database, configured by RECOVER_VERIFY_CONFIG:
 * amcheck first (it may create its extension), then the session turns read-only for the
 * rest: critical tables, NOT VALID foreign keys, orphans, rules, sequences.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { checksFor, parseIntegrityConfig, type IntegrityConfig } from '../../config.js';
import { EMPTY_INTEGRITY_CONFIG } from '../../config/integrity-schema.js';
import { RecoverError } from '../../errors.js';
import { criticalTablesCheck, orphanChecks, ruleChecks, unvalidatedForeignKeysCheck } from './logical.js';
import { amcheckCheck, sequenceCheck, type AmcheckMode } from './physical.js';
import { readOnlySessionSql, timeoutSql } from './sql.js';
import { failureText, type IntegrityCheck } from './types.js';

export { checksumCheck, type AmcheckMode } from './physical.js';
export { timeoutSql } from './sql.js';
export { failureText } from './types.js';
export type { IntegrityCheck } from './types.js';

/** Every check's statement_timeout: the config's ruleTimeoutMs (60 s unless configured). */
export function checkTimeoutMs(config: IntegrityConfig | undefined): number {
  return (config ?? EMPTY_INTEGRITY_CONFIG).ruleTimeoutMs;
}

/** Reads and validates the checker's file; CONFIG_INVALID names the file and the wrong field. */
export async function loadIntegrityConfig(path: string): Promise<IntegrityConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RecoverError('CONFIG_INVALID', `Cannot read RECOVER_VERIFY_CONFIG ${path}: ${(error as Error).message}`, { hint: 'Point RECOVER_VERIFY_CONFIG at a readable JSON file (see README, "Integrity verification").' });
  }
  try {
    return parseIntegrityConfig(text, `RECOVER_VERIFY_CONFIG ${path}`);
  } catch (error) {
    throw new RecoverError('CONFIG_INVALID', (error as Error).message, { hint: 'Fix the named field (see README, "Integrity verification").' });
  }
}

/** Every configured check of one database, on a client connected to it; each statement bounded by the statement_timeout. */
export async function databaseIntegrityChecks(client: pg.Client, database: string, config: IntegrityConfig, amcheck: AmcheckMode): Promise<IntegrityCheck[]> {
  const checks = checksFor(config, database);
  const results: IntegrityCheck[] = [];
  const guarded = async (name: string, run: () => Promise<IntegrityCheck[]>): Promise<void> => {
    try {
      results.push(...(await run()));
    } catch (error) {
      results.push({ name: `${name} ${database}`, ok: false, message: `the check could not run: ${failureText(error)}` });
    }
  };
  await client.query(timeoutSql(config.ruleTimeoutMs));
  const indexes: IntegrityCheck[] = [];
  try {
    indexes.push(...(await amcheckCheck(client, database, checks, amcheck)));
  } catch (error) {
    indexes.push({ name: `indexes ${database}`, ok: false, message: `the check could not run: ${failureText(error)}` });
  }
  await client.query(readOnlySessionSql);
  await guarded('critical tables', () => criticalTablesCheck(client, database, checks));
  await guarded('foreign keys validated', async () => [await unvalidatedForeignKeysCheck(client, database)]);
  await guarded('orphans', () => orphanChecks(client, database, checks, config));
  await guarded('rules', () => ruleChecks(client, database, checks, config));
  await guarded('sequences', () => sequenceCheck(client, database));
  return [...results, ...indexes];
}
