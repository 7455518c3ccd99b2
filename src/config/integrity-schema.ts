/**
 * The integrity checker's configuration file (RECOVER_VERIFY_CONFIG, JSON): per database the
 * critical tables, parent/child relations checked for orphans (with or without a foreign key),
 * rule checks (SQL returning the violating rows) and the tables whose indexes amcheck checks.
 * Nothing here knows the platform's schema: the runbook's tables are only an example (README).
 * Pure: parseIntegrityConfig takes the file's text; errors name the field that is wrong.
 */
import { z } from 'zod';

/** `table` (public) or `schema.table`; quoted when used, so only the shape is checked here. */
const tableName = z
  .string()
  .min(1)
  .max(127)
  .regex(/^[^.\s]+(\.[^.\s]+)?$/, 'expected a table name: table or schema.table, no spaces');
const columnName = z.string().min(1).max(63);
const columns = z.array(columnName).min(1).max(32);

const relation = z
  .object({
    child: tableName,
    columns,
    parent: tableName,
    parentColumns: columns,
  })
  .strict()
  .refine((r) => r.columns.length === r.parentColumns.length, { message: 'columns and parentColumns must have the same length', path: ['parentColumns'] });

const rule = z
  .object({
    name: z.string().min(1).max(100),
    // The file is the operator's, not user input; still one statement, no trailing semicolon.
    sql: z
      .string()
      .min(1)
      .transform((text) => text.trim().replace(/;+\s*$/, '').trim())
      .refine((text) => !text.includes(';'), 'expected one SELECT statement (no ;)')
      .refine((text) => /^(select|with|table|values)\b/i.test(text), 'expected a query starting with SELECT, WITH, TABLE or VALUES'),
  })
  .strict();

const databaseChecks = z
  .object({
    criticalTables: z.array(tableName).max(500).default([]),
    relations: z.array(relation).max(500).default([]),
    rules: z.array(rule).max(200).default([]),
    /** Tables whose btree indexes amcheck checks; the critical tables when not given. */
    amcheckTables: z.array(tableName).max(500).optional(),
  })
  .strict();

export const integrityConfigSchema = z
  .object({
    /** Keyed by database name; `*` applies to every database verified. */
    databases: z.record(z.string().min(1).max(63), databaseChecks).default({}),
    ruleTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
    orphanExamples: z.number().int().min(0).max(20).default(5),
    /** CREATE EXTENSION amcheck on production too (side instances always may). */
    createAmcheckOnProduction: z.boolean().default(false),
    /** Tables whose heap is below this are counted exactly; larger ones report the statistics' estimate unless critical. */
    exactCountBelowMb: z.number().min(0).max(1_048_576).default(1024),
    /** Sessions counting at once per database; 0: min(cores, 4). */
    countParallel: z.number().int().min(0).max(64).default(0),
    /** The exact counts' time budget for the whole verification; counts not done by then are reported skipped. */
    countBudgetSeconds: z.number().int().min(1).max(86_400).default(300),
  })
  .strict();

export type IntegrityConfig = z.infer<typeof integrityConfigSchema>;
export type DatabaseChecks = z.infer<typeof databaseChecks>;
export type Relation = z.infer<typeof relation>;
export type RuleCheck = z.infer<typeof rule>;

export const EMPTY_INTEGRITY_CONFIG: IntegrityConfig = integrityConfigSchema.parse({});

/** The checks for one database: its own entry and the `*` entry together. */
export function checksFor(config: IntegrityConfig, database: string): DatabaseChecks {
  const parts = [config.databases['*'], config.databases[database]].filter((part): part is DatabaseChecks => part !== undefined);
  const amcheck = parts.flatMap((part) => part.amcheckTables ?? []);
  return {
    criticalTables: [...new Set(parts.flatMap((part) => part.criticalTables))],
    relations: parts.flatMap((part) => part.relations),
    rules: parts.flatMap((part) => part.rules),
    ...(parts.some((part) => part.amcheckTables) ? { amcheckTables: [...new Set(amcheck)] } : {}),
  };
}

export class IntegrityConfigError extends Error {}

/** Parses the file's text (JSON); the error names the file and each wrong field by its path. */
export function parseIntegrityConfig(text: string, source = 'RECOVER_VERIFY_CONFIG'): IntegrityConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new IntegrityConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = integrityConfigSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`);
    throw new IntegrityConfigError(`${source} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}
