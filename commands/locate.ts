/**
 * `/recover locate <table> [--since <time with offset>] [--db NAME]` and `recover locate …`:
 * which transactions deleted, updated or truncated rows of a table, and when (to the microsecond), read
 * from the archived WAL with pg_waldump — with the exact command to restore just before each
 * one (`--before-xid N`). Read-only: with the default approval policy it runs at once.
 *
 * Planning (on the runner) reads the table's relfilenode(s) from production and picks the
 * segments (engine/locate/segments.ts, bounded); the job reads them (engine/locate/scan.ts).
 * `--where` is refused: WAL DELETE records carry only a row's location, so a filter on column
 * values cannot be evaluated on them; `/recover rows … --before-xid N` previews the rows.
 */
import { z } from 'zod';
import { parseTargetTime } from '../src/catalog/targets.js';
import { nowIso } from '../src/engine/context.js';
import { chooseDatabase, liveStorage, productionConnection, relationNames, resolveTable, type LocateTable } from '../src/engine/locate/relation.js';
import { scanWal } from '../src/engine/locate/scan.js';
import { locateSegments, type LocateWal } from '../src/engine/locate/segments.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { step } from '../src/engine/restore-to-target.js';
import { requireTargetInDatabase, requireTargetOidInDatabase } from '../src/engine/targets/guard.js';
import { RecoverError } from '../src/errors.js';
import { formatLocate, locateFollowUps, locateNotes, SHOWN_TRANSACTIONS, transactionLine, type LocateResult } from './locate-format.js';
import { declaredStep, type RecoverCommand } from './types.js';
import { parseFlags, withCommonCliFlags } from './words.js';
import { databaseName, exactTime, tableName } from './schemas.js';


const schema = z.object({ table: tableName, db: databaseName.optional(), since: exactTime.optional() });
type LocateArgs = z.infer<typeof schema>;

const paramsSchema = z.object({
  database: databaseName,
  table: z.string().max(200),
  oid: z.number().int(),
  relations: z.array(z.object({ name: z.string().max(200), oid: z.number().int(), relfilenode: z.string().regex(/^\d+\/\d+\/\d+$/) })).max(1024),
  segments: z.array(z.string().regex(/^[0-9A-F]{24}$/)).min(1).max(1024),
  segmentSize: z.number().int().positive(),
  from: z.string().max(300),
  gapAt: z.string().nullable(),
});
type LocateParams = z.infer<typeof paramsSchema>;

/** Read back leniently by the bot: what is missing shows as nothing, never as a crash. */
const resultSchema = z
  .object({
    database: z.string().catch('?'), table: z.string().catch('?'), from: z.string().catch('?'), segmentsRead: z.number().catch(0), found: z.number().catch(0),
    transactions: z.array(z.any()).catch([]), notes: z.array(z.string()).catch([]),
  })
  .passthrough() as unknown as z.ZodType<LocateResult>; // the fields the summary reads are defaulted; written by run() as LocateResult

const USAGE = 'locate <table> [--since <time with offset>] [--db NAME]';
const EXAMPLE = '/recover locate workflows --since 2025-01-15T14:00:00+00:00 --db aiagent_prod';
const STEPS = [{ kind: 'scan-wal', title: 'Read the archived WAL for changes to the table', destructive: false }] as const;

function parse(tokens: string[]): LocateArgs {
  const hint = `Usage: /recover ${USAGE}\nExample: ${EXAMPLE}`;
  const { positional, flags } = parseFlags(tokens, ['db', 'since', 'where']);
  if (flags.where !== undefined) {
    throw new RecoverError('BAD_INPUT', '--where cannot be applied to WAL: a DELETE record holds only the row\'s location, not its column values, so locate lists every transaction that deleted or updated rows of the table.', {
      hint: `Run /recover locate <table> without --where, then check a candidate's rows with /recover rows <table> --where "…" --before-xid N (it previews them from a side instance).\n${hint}`,
    });
  }
  const unknown = Object.keys(flags).filter((flag) => flag !== 'db' && flag !== 'since');
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  const valueless = ['db', 'since'].filter((flag) => flags[flag] === true);
  if (valueless.length > 0) throw new RecoverError('BAD_INPUT', `${valueless.map((f) => `--${f}`).join(', ')} needs a value.`, { hint });
  const [table, ...rest] = positional;
  if (!table) throw new RecoverError('BAD_INPUT', 'Name the table whose changes to find.', { hint });
  // "--since 2025-01-15 14:00:00+00" arrives as two words: the words after the table continue the time.
  if (rest.length > 0 && typeof flags.since !== 'string') throw new RecoverError('BAD_INPUT', `Unexpected words: ${rest.join(' ')}.`, { hint });
  const since = typeof flags.since === 'string' ? [flags.since, ...rest].join(' ') : undefined;
  if (since !== undefined) parseTargetTime(since); // the precise refusal (no zone, not a time)
  const parsed = schema.safeParse({ table, ...(typeof flags.db === 'string' ? { db: flags.db } : {}), ...(since !== undefined ? { since } : {}) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path[0] === 'table' ? 'table' : `--${String(issue.path[0])}`}: ${issue.message}`).join('; ');
    throw new RecoverError('BAD_INPUT', `Cannot use these words: ${problems}.`, { hint });
  }
  return parsed.data;
}

interface LocateFacts {
  table: LocateTable;
  wal: LocateWal;
}

export const locate: RecoverCommand<LocateArgs, LocateFacts, LocateParams, LocateResult, z.infer<typeof resultSchema>> = {
  name: 'locate',
  usage: USAGE,
  example: EXAMPLE,
  description: 'Which transactions deleted, updated or truncated rows of a table (also under its storage before a TRUNCATE or rewrite), and when, from the archived WAL; with the command to restore just before each (--before-xid). Read-only. No --where: WAL records hold no column values.',
  home: 'runner',
  schema,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  cliHelp: `\nThe same words as /recover locate in Slack. Example: ${EXAMPLE.slice(1)}
  <table>             table or schema.table, in the database of --db (default: production's only user database)
  --since <time>      read WAL archived from this time (minus 5 min) instead of from the newest base backup
  --json              print exactly one JSON object, also on failure
--where is not taken: WAL DELETE records hold only a row's location, not its values. Use
/recover rows <table> --where "…" --before-xid N to see which rows a transaction removed.`,
  risk: () => 'read-only',
  confirmation: () => null,
  async gather(ctx, args) {
    const database = await chooseDatabase(ctx.config.source.url, args.db);
    // Only an ordinary user table of a user database, by production's catalog (engine/targets).
    await requireTargetInDatabase((db) => productionConnection(ctx.config.source.url, db), database, args.table, 'locate');
    const table = await resolveTable(productionConnection(ctx.config.source.url, database), database, args.table);
    if (table.relations.length === 0) throw new RecoverError('BAD_INPUT', `${table.table} has no storage of its own and no partitions: there are no rows to look for.`, { hint: 'Give a table that holds rows.' });
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const wal = locateSegments(catalog, args.since ? new Date(parseTargetTime(args.since).notBefore) : null);
    return { table, wal };
  },
  plan(_args, facts) {
    const { table, wal } = facts;
    const range = `${wal.segments.length} WAL segments ${wal.segments[0]} … ${wal.segments.at(-1)} (${(wal.bytes / 1e6).toFixed(0)} MB)`;
    return {
      command: 'locate',
      summary: `Find the transactions that deleted, updated or truncated rows of ${table.table} (database ${table.database}) in ${range}`,
      risk: 'read-only',
      steps: [declaredStep(STEPS, 'scan-wal', { title: `Read ${range} for changes to ${table.table}`, estimateSeconds: Math.ceil(wal.segments.length * 0.5) + 2 })],
      facts: {
        Table: `${table.table} in ${table.database} (relfilenode ${table.relations.map((r) => r.relfilenode).join(', ')}, as production has it now)`,
        WAL: `${range}, from ${wal.from}${wal.gapAt ? `; stops before missing segment ${wal.gapAt}` : ''}`,
      },
      params: {
        database: table.database, table: table.table, oid: table.oid, relations: table.relations, segments: wal.segments, segmentSize: wal.segmentSize, from: wal.from, gapAt: wal.gapAt,
      } satisfies LocateParams,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params) {
    const { engine } = ctx;
    engine.events.emit({ type: 'job.started', at: nowIso(engine.clock), command: `locate ${params.table}` });
    // Again in the job, by the oid planned: the name may point elsewhere by now.
    await requireTargetOidInDatabase((db) => productionConnection(ctx.config.source.url, db), params.database, params.oid, 'locate', params.table);
    const finish = step(engine, 'scan-wal', `Read ${params.segments.length} WAL segments for changes to ${params.table}`);
    // Production's storage now: the table's heap(s) as they are (a TRUNCATE since planning moved them), and every live relfilenode, so older ones can be told apart.
    const storage = await liveStorage(productionConnection(ctx.config.source.url, params.database), params.oid);
    const relfilenodes = storage.heaps.length > 0 ? storage.heaps : params.relations.map((r) => r.relfilenode);
    const scan = await scanWal(engine, ctx.config.pg, {
      segments: params.segments, segmentSize: params.segmentSize, relations: relfilenodes, oids: [params.oid, ...params.relations.map((r) => r.oid)], live: storage.live, own: storage.own, step: 'scan-wal',
    });
    const shown = scan.transactions.slice(0, SHOWN_TRANSACTIONS);
    const names = await relationNames(productionConnection(ctx.config.source.url, params.database), [...new Set(shown.flatMap((t) => t.others.map((o) => o.relation)))]);
    const result: LocateResult = {
      database: params.database,
      table: params.table,
      relfilenodes,
      oldRelfilenodes: scan.history.oldRelfilenodes,
      rewrites: scan.history.rewrites,
      from: params.from,
      firstSegment: params.segments[0]!,
      lastSegment: params.segments.at(-1)!,
      segmentsRead: scan.segmentsRead,
      gapAt: params.gapAt,
      tableRecords: scan.tableRecords,
      abortedTouching: scan.abortedTouching,
      found: scan.transactions.length,
      transactions: shown.map((t) => ({ ...t, others: t.others.map((o) => ({ ...o, name: names.get(o.relation) ?? null })) })),
      notes: locateNotes({ table: params.table, tableRecords: scan.tableRecords, found: scan.transactions.length, abortedTouching: scan.abortedTouching, gapAt: params.gapAt, partitions: params.relations.length, ...scan.history, unresolved: scan.history.unresolved }),
    };
    finish(result.transactions.length === 0 ? 'no transaction deleted, updated or truncated rows' : result.transactions.slice(0, 3).map((t) => transactionLine(result, t)).join('\n'));
    return result;
  },
  resultSchema,
  format: formatLocate,
  summary: (_params, result) => ({ target: null, to: null, recovery: null, followUps: result ? locateFollowUps(result) : [] }),
};
