/**
 * `/recover drill` and `/recover drill history [N]` (also `recover drill …`). A drill restores
 * the newest base backup plus all archived WAL to a scratch side instance, verifies it, measures
 * the RTO from the request to verified, removes the instance and records the drill in the
 * control DB (src/drills/run.ts; RECOVER_DRILL_SCHEDULE runs the same on a schedule). Its
 * result is posted to RECOVER_ALERT_CHANNEL. `history`: the last N drills with their RTO,
 * backup and result, the trend, and warnings (past RECOVER_DRILL_WARN_PERCENT of the RTO goal,
 * or failed); read-only.
 */
import { z } from 'zod';
import { listDrills, type DrillRow } from '../src/control/drills.js';
import { createPool } from '../src/engine/pg-client.js';
import { step } from '../src/engine/restore-to-target.js';
import { RecoverError } from '../src/errors.js';
import { runDrill, type DrillOutcome } from '../src/drills/run.js';
import { drillHistory, drillHistoryText, NO_DRILLS } from '../src/drills/report.js';
import type { DrillPoint } from '../src/drills/chart.js';
import type { Config } from '../src/config.js';
import type { Db } from '../src/control/db.js';
import type { Plan } from '../src/types.js';
import { declaredStep, type RecoverCommand } from './types.js';
import { withCommonCliFlags } from './words.js';

const schema = z.union([z.object({ mode: z.literal('run') }).strict(), z.object({ mode: z.literal('history'), limit: z.number().int().min(1).max(100) }).strict()]);
type DrillArgs = z.infer<typeof schema>;
const paramsSchema = z.union([z.object({ mode: z.literal('run'), requestedAt: z.string() }), z.object({ mode: z.literal('history'), limit: z.number().int().min(1).max(100) })]);
type DrillParams = z.infer<typeof paramsSchema>;
type DrillResult = (Omit<DrillOutcome, 'requestedAt'> & { mode: 'run'; requestedAt: string }) | { mode: 'history'; text: string; drills: number; points: DrillPoint[] };
type DrillFacts = { rows?: DrillRow[]; text?: string; objective?: { rtoSeconds: number; warnShare: number } };
const resultSchema = z.object({ mode: z.string().catch('run'), ok: z.boolean().nullable().catch(null), rtoSeconds: z.number().nullable().catch(null), backupId: z.string().nullable().catch(null), text: z.string().nullable().catch(null) }).partial();

const USAGE = 'drill [history [N]]';
const EXAMPLE = '/recover drill';
const STEPS = [
  { kind: 'select', title: 'Choose the newest base backup and check the WAL chain', destructive: false },
  { kind: 'restore-base-backup', title: 'Restore the base backup to a scratch side instance', destructive: false },
  { kind: 'configure-recovery', title: 'Configure recovery to the newest archived WAL', destructive: false },
  { kind: 'replay-wal', title: 'Replay WAL', destructive: false },
  { kind: 'verify', title: 'Verify: connection, integrity checks, row counts, newest rows', destructive: false },
  { kind: 'remove-instance', title: "Remove the drill's side instance", destructive: false },
  { kind: 'report-drills', title: 'Read the drill history from the control DB', destructive: false },
] as const;

function parse(tokens: string[]): DrillArgs {
  const hint = `Usage: /recover ${USAGE}\nExamples: /recover drill, /recover drill history 20`;
  if (tokens.length === 0) return { mode: 'run' };
  if (tokens[0] !== 'history' || tokens.length > 2) throw new RecoverError('BAD_INPUT', '`drill` takes nothing (run a drill now) or `history [N]`.', { hint });
  const limit = tokens[1] === undefined ? 10 : Number(tokens[1]);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RecoverError('BAD_INPUT', `"${tokens[1]}" is not a number of drills from 1 to 100.`, { hint });
  return { mode: 'history', limit };
}

/** The control DB the drill history lives in, for one piece of work (the runner's and the CLI's RECOVER_CONTROL_URL). */
async function withControl<T>(config: Config, work: (db: Db | null) => Promise<T>): Promise<T> {
  if (!config.controlUrl) return work(null);
  const pool = createPool({ connectionString: config.controlUrl, max: 1, connectionTimeoutMillis: 10_000 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

const objectiveOf = (config: Config) => ({ rtoSeconds: config.objectives.rtoSeconds, warnShare: config.drill.warnShare });

/** The pool's newest drills, or null where there is no control DB to read them from (the CLI without RECOVER_CONTROL_URL). */
export function readDrills(config: Config, limit: number): Promise<DrillRow[] | null> {
  return withControl(config, async (db) => (db ? listDrills(db, config.pool, limit) : null));
}

async function history(config: Config, limit: number): Promise<DrillRow[]> {
  return withControl(config, async (db) => {
    if (!db) throw new RecoverError('CONFIG_INVALID', 'The drill history is kept in the control DB, and RECOVER_CONTROL_URL is not set.', { hint: 'Set RECOVER_CONTROL_URL (as the runners have it) to read it.' });
    return listDrills(db, config.pool, limit);
  });
}

/** The history as the plan's facts: the list, then the trend and the warnings in facts of their own (Slack cuts a long fact). */
function historyFacts(facts: DrillFacts): Record<string, string> {
  const rows = facts.rows ?? [];
  if (rows.length === 0 || !facts.objective) return { History: facts.text ?? NO_DRILLS };
  const history = drillHistory(rows, facts.objective);
  return { [history.heading.replace(/:$/, '')]: history.lines.join('\n'), Trend: history.trend, ...(history.warnings.length > 0 ? { Warnings: history.warnings.map((w) => `:warning: ${w}`).join('\n') } : {}) };
}

export const drill: RecoverCommand<DrillArgs, DrillFacts, DrillParams, DrillResult, z.infer<typeof resultSchema>> = {
  name: 'drill',
  usage: USAGE,
  example: EXAMPLE,
  description: 'Restore drill: the newest backup plus WAL restored to a scratch side instance, verified, timed (RTO) and removed; `drill history` shows the trend.',
  home: 'runner',
  schema: schema as z.ZodType<DrillArgs>,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  risk: (args) => (args.mode === 'history' ? 'read-only' : 'side-copy'),
  confirmation: () => null,
  async gather(ctx, args) {
    if (args.mode === 'run') return {};
    const rows = await history(ctx.config, args.limit);
    return { rows, text: drillHistoryText(rows, objectiveOf(ctx.config)), objective: objectiveOf(ctx.config) };
  },
  plan(args, facts): Plan {
    if (args.mode === 'history') {
      return {
        command: 'drill',
        summary: `Restore drill history: the last ${facts.rows?.length ?? 0} drill(s)`,
        risk: 'read-only',
        steps: [declaredStep(STEPS, 'report-drills', { estimateSeconds: 1 })],
        facts: historyFacts(facts),
        params: { mode: 'history', limit: args.limit } satisfies DrillParams,
      };
    }
    const kinds = ['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify', 'remove-instance'] as const;
    return {
      command: 'drill',
      summary: 'Restore drill: the newest base backup plus all archived WAL to a scratch side instance, verify, time it, remove it',
      risk: 'side-copy',
      steps: kinds.map((kind) => declaredStep(STEPS, kind)),
      facts: { Target: 'the newest archived WAL', 'RTO measured': 'from this request to the restored data verified', 'Side instance': 'drill-<time>-<id> under the restore root, removed afterwards' },
      params: { mode: 'run', requestedAt: facts.now.toISOString() } satisfies DrillParams,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params) {
    const { config, engine } = ctx;
    if (params.mode === 'history') {
      const finish = step(engine, 'report-drills', 'Read the drill history');
      const rows = await history(config, params.limit);
      finish(`${rows.length} drill(s)`);
      // The drills for the bot's chart (it draws and uploads it: runners never call Slack).
      const points = rows.map((r) => ({ at: r.requestedAt.toISOString(), ok: r.ok, rtoSeconds: r.rtoSeconds }));
      return { mode: 'history', text: drillHistoryText(rows, objectiveOf(config)), drills: rows.length, points };
    }
    const outcome = await withControl(config, (db) =>
      runDrill(engine, config, db, { pool: config.pool, production: config.productionName ?? config.pool, trigger: 'command', requestedAt: new Date(params.requestedAt), objective: objectiveOf(config) }),
    );
    return { ...outcome, mode: 'run', requestedAt: outcome.requestedAt.toISOString() };
  },
  resultSchema,
  verdict(result) {
    if (result.mode !== 'run' || result.ok) return null;
    return new RecoverError((result.error?.code ?? 'RESTORE_FAILED') as 'RESTORE_FAILED', `The restore drill failed: ${result.error?.message ?? 'no reason recorded'}`, { hint: 'Run /recover preflight and /recover backups, fix what they show, then /recover drill again.' });
  },
  format: (result) =>
    result.mode === 'history'
      ? result.text
      : `Restore drill ${result.ok ? 'passed' : 'FAILED'}: backup ${result.backupId ?? '-'}, RTO ${result.rtoSeconds === null ? '-' : `${Math.round(result.rtoSeconds)} s`}, side instance ${result.instanceName} ${result.removed ? 'removed' : 'NOT removed'}${result.id ? `; recorded as drill ${result.id}` : ' (not recorded: no RECOVER_CONTROL_URL)'}.${result.error ? `\n${result.error.message}` : ''}`,
  summary: (_params, result) => ({
    target: { text: 'the newest archived WAL', time: null },
    // The drill's instance is gone when the job ends: nothing to connect to or extract from.
    to: null,
    recovery: null,
    followUps: result?.mode === 'history' && result.text ? [result.text] : result?.mode === 'run' && result.ok ? [`Drill passed in ${Math.round(result.rtoSeconds ?? 0)} s (RTO); its side instance was removed. \`/recover drill history\` shows the trend.`] : [],
    sideInstanceHandled: true,
  }),
};
