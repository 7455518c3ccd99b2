/**
 * `/recover verify [db …] [--instance NAME]` and `recover verify …`: the checks pitr runs after a
 * restore (connection, databases, the integrity checks of RECOVER_VERIFY_CONFIG, checksum
 * failures, exact row counts, newest rows of RECOVER_VERIFY_TABLES), on production
 * (RECOVER_SOURCE_URL) or on a side instance under the restore root. Read-only: with the default
 * approval policy it runs at once, and its result is the integrity report. Only on a side
 * instance (or when the config allows it) does it create the amcheck extension. On a side
 * instance it also compares row counts with production (informational: an earlier time differs).
 */
import { z } from 'zod';
import { sideInstanceConnection } from '../src/engine/instances.js';
import { nowIso } from '../src/engine/context.js';
import { databaseNotFound, withTargetClient, type TargetConnection } from '../src/engine/pg-client.js';
import { databasesSql } from '../src/engine/sql.js';
import { INSTANCE_NAME } from '../src/engine/restore-layout.js';
import { step } from '../src/engine/restore-to-target.js';
import { loadIntegrityConfig } from '../src/engine/integrity/index.js';
import { verifyRestored, type IntegrityReport } from '../src/engine/verify.js';
import { RecoverError } from '../src/errors.js';
import { parseConnectionUrl, pgClientConfig } from '../src/util/connection-url.js';
import { declaredStep, type CommandContext, type RecoverCommand } from './types.js';
import { parseFlags, withCommonCliFlags } from './words.js';
import { databaseName } from './schemas.js';

const schema = z.object({
  db: z.array(databaseName).min(1).max(32).optional(),
  instance: z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _, up to 63 (no dots or slashes)').optional(),
});
type VerifyArgs = z.infer<typeof schema>;

const paramsSchema = z.object({ instance: z.string().regex(INSTANCE_NAME).nullable(), databases: z.array(databaseName).nullable() });
type VerifyParams = z.infer<typeof paramsSchema>;

export interface VerifyResult {
  checked: string;
  report: IntegrityReport;
}
const resultSchema = z.object({ checked: z.string().catch('?'), report: z.unknown() });

const EXAMPLE = '/recover verify aiagent_prod';
const USAGE = 'verify [db …] [--instance NAME]';
const STEPS = [{ kind: 'verify', title: 'Verify: connection, integrity checks, row counts, newest rows', destructive: false }] as const;

function parse(tokens: string[]): VerifyArgs {
  const hint = `Usage: /recover ${USAGE}\nExample: ${EXAMPLE}`;
  const { positional, flags, lists } = parseFlags(tokens, ['instance'], ['db']);
  const unknown = Object.keys(flags).filter((flag) => flag !== 'instance' && flag !== 'db');
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  if (flags.instance === true) throw new RecoverError('BAD_INPUT', '--instance needs a value.', { hint });
  const db = [...positional.flatMap((word) => word.split(',')), ...(lists.db ?? [])];
  const parsed = schema.safeParse({ ...(db.length > 0 ? { db } : {}), ...(typeof flags.instance === 'string' ? { instance: flags.instance } : {}) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path[0] === 'instance' ? '--instance' : 'database'}: ${issue.message}`).join('; ');
    throw new RecoverError('BAD_INPUT', `Cannot use these words: ${problems}.`, { hint });
  }
  return parsed.data;
}

/** Where the checks connect: a running side instance, or production. */
async function connectionFor(ctx: CommandContext, instance: string | null): Promise<TargetConnection> {
  // Only a side instance this tool created, its server running in its own data directory (INSTANCE_INVALID otherwise).
  if (instance) return sideInstanceConnection(ctx.config, instance);
  if (!ctx.config.source.url) {
    throw new RecoverError('CONFIG_INVALID', 'Verifying production needs RECOVER_SOURCE_URL on the runner.', { hint: 'Configure the production connection, or give --instance NAME to verify a side instance.' });
  }
  return pgClientConfig(parseConnectionUrl(ctx.config.source.url), 'postgres');
}

export const verify: RecoverCommand<VerifyArgs, { checked: string }, VerifyParams, VerifyResult, z.infer<typeof resultSchema>> = {
  name: 'verify',
  usage: USAGE,
  example: EXAMPLE,
  description: 'Check production (or a side instance) as pitr checks a restore: connection, integrity checks (RECOVER_VERIFY_CONFIG), row counts, newest rows. Read-only.',
  home: 'runner',
  schema,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  risk: () => 'read-only',
  confirmation: () => null,
  async gather(ctx, args) {
    // Refused at planning when there is nothing to connect to (no such instance, no production URL),
    // and a database it does not have (DATABASE_NOT_FOUND, naming the ones it has), not a failed check later.
    const connection = await connectionFor(ctx, args.instance ?? null);
    if (args.db) {
      const rows = await withTargetClient(connection, async (client) => (await client.query<{ datname: string; usable: boolean }>(databasesSql)).rows);
      const existing = rows.filter((row) => row.usable).map((row) => row.datname);
      const missing = args.db.find((db) => !rows.some((row) => row.datname === db));
      const where = args.instance ? `Side instance ${args.instance}` : 'Production';
      if (missing !== undefined) throw databaseNotFound(missing, existing, { where, hint: `Name databases it has, e.g. recover verify ${existing.find((db) => db !== 'postgres') ?? existing[0] ?? ''}${args.instance ? ` --instance ${args.instance}` : ''}, or none to verify them all.` });
    }
    // A checker file that cannot be read or is invalid is refused now, naming the field.
    if (ctx.config.verifyConfigFile) await loadIntegrityConfig(ctx.config.verifyConfigFile);
    return { checked: args.instance ? `side instance ${args.instance}` : 'production' };
  },
  plan(args, facts) {
    const checked = args.instance ? facts.checked : `production ${facts.production.name}`;
    const databases = args.db?.join(', ') ?? 'all databases';
    return {
      command: 'verify',
      summary: `Verify ${databases} on ${checked}: connection, integrity checks, row counts, newest rows`,
      risk: 'read-only',
      steps: [declaredStep(STEPS, 'verify', { title: `Verify ${databases} on ${checked}: connection, integrity checks, row counts, newest rows`, estimateSeconds: 5 })],
      facts: { Checks: checked, Databases: databases },
      params: { instance: args.instance ?? null, databases: args.db ?? null } satisfies VerifyParams,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params) {
    const { engine } = ctx;
    const checked = params.instance ? `side instance ${params.instance}` : `production ${ctx.config.productionName ?? ''}`.trim();
    engine.events.emit({ type: 'job.started', at: nowIso(engine.clock), command: `verify ${checked}` });
    const finish = step(engine, 'verify', `Verify ${checked}`);
    const connection = await connectionFor(ctx, params.instance);
    const report = await verifyRestored(connection, {
      ...(params.databases ? { databases: params.databases } : {}),
      tables: ctx.config.verifyTables,
      subject: checked,
      ...(ctx.config.verifyConfigFile ? { configFile: ctx.config.verifyConfigFile } : {}),
      amcheck: params.instance ? 'create' : 'existing',
      // A side instance is production at an earlier time: its row counts compared with production's (informational).
      ...(params.instance && ctx.config.source.url ? { compareWith: { connection: pgClientConfig(parseConnectionUrl(ctx.config.source.url), 'postgres'), name: `production ${ctx.config.productionName ?? ''}`.trim() } } : {}),
    });
    engine.events.emit({ type: 'integrity.report', at: nowIso(engine.clock), report });
    finish(report.ok ? 'all checks passed' : 'some checks failed');
    return { checked, report };
  },
  resultSchema,
  verdict(result) {
    if (result.report.ok) return null;
    const failed = result.report.checks.filter((check) => !check.ok).map((check) => check.message);
    return new RecoverError('VERIFY_FAILED', `Verification of ${result.checked} failed: ${failed.join('; ')}.`, { hint: 'Look at the failed checks; nothing was changed.' });
  },
  format: (result) =>
    [
      `Verified ${result.checked}: ${result.report.ok ? 'passed' : 'FAILED'}`,
      ...result.report.checks.map((c) => `  ${c.ok ? (c.skipped ? '–' : c.informational ? 'i' : '✓') : '✗'} ${c.name}: ${c.message}`),
      ...result.report.databases.flatMap((db) => [`  ${db.name}:`, ...db.tables.map((t) => `    ${t.table}  ${t.rows} rows${t.newest ? `  newest ${t.newest}` : ''}`)]),
    ].join('\n'),
  summary: () => ({ target: null, to: null, recovery: null, followUps: [] }),
};
