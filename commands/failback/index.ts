/**
 * `/recover failback` and `recover failback` (runbook §5.3, issue 21): after a failover the old
 * region is back. Its data directory survived: pg_rewind it against the DR primary, attach it as
 * a standby through a slot, then (this runner also holding DR's data directory) the switchover that
 * makes it the primary again. Runs on the old primary's host (RECOVER_SOURCE_DATA_DIR).
 */
import { z } from 'zod';
import { FAILBACK_STEPS, gatherFailback, runFailback, type FailbackFacts, type FailbackResult } from '../../src/engine/failover/failback.js';
import type { FailbackDumpResult } from '../../src/engine/failover/failback-dump.js';
import { sideConnection } from '../../src/engine/failover/switchover-facts.js';
import { requireTargetDatabases } from '../../src/engine/targets/guard.js';
import { RecoverError } from '../../src/errors.js';
import { switchoverLines } from '../switchover/index.js';
import type { RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { FAILBACK_USAGE, failbackArgs, failbackParamsSchema, failbackPlan, failbackSchema, type FailbackArgs, type FailbackParams } from './plan.js';

const dumpResultSchema = z.object({
  method: z.literal('dump'),
  database: z.string().catch('?'),
  newName: z.string().catch('?'),
  verify: z.string().catch(''),
  swapped: z.object({ beforeName: z.string().catch('?'), sessionsEnded: z.number().catch(0) }),
});
const rewindResultSchema = z.object({
  dataDir: z.string().catch(''),
  rewind: z.string().catch(''),
  attached: z.object({ streaming: z.boolean(), detail: z.string() }).nullable().catch(null),
  switchover: z.record(z.string(), z.unknown()).nullable().catch(null),
});
const resultSchema = z.union([dumpResultSchema, rewindResultSchema]);
type Shown = z.infer<typeof resultSchema>;

const CLI_HELP = `
The same words as /recover failback in Slack, on the old primary's host (RECOVER_SOURCE_DATA_DIR): pg_rewind it against
the DR primary (RECOVER_STANDBY_URL), attach it as a standby, then switch over to it when RECOVER_STANDBY_DATA_DIR is here too.
No such data directory here, or another cluster's (a rebuilt primary at RECOVER_SOURCE_URL): failback <db> dumps <db> from DR
(pg_dump -Fd -j N), restores it as <db>_restored_<stamp>, compares every table, then swaps it in (old kept as <db>_before_<stamp>).
  --dry-run  show the plan, change nothing      --json  one JSON object      --confirm <text>  run without the prompt
Exit 3 (FAILOVER_REFUSED): not started (no wal_log_hints nor checksums, another cluster, DR not a primary, …).`;

export function failbackLines(result: Shown): string[] {
  if ('method' in result) {
    return [
      `Restored ${result.database} from the DR primary as ${result.newName} on the rebuilt primary and checked it: ${result.verify}.`,
      `Swapped: ${result.database} is DR's data now (${result.swapped.sessionsEnded} sessions ended); the old database is kept as ${result.swapped.beforeName}; drop it once nobody needs it: DROP DATABASE "${result.swapped.beforeName}";`,
    ];
  }
  return [
    `Rewound ${result.dataDir} (${result.rewind}): what it wrote after DR was promoted is discarded; DR's data is all kept.`,
    result.attached ? `Attached: ${result.attached.detail}.` : 'Not attached.',
    ...(result.switchover ? switchoverLines(result.switchover as Parameters<typeof switchoverLines>[0]) : ['It is a standby of the DR primary: run /recover switchover from the runner on DR\'s host to make it the primary again.']),
  ];
}

export const failback: RecoverCommand<FailbackArgs, FailbackFacts, FailbackParams, FailbackResult | FailbackDumpResult, Shown> = {
  name: 'failback',
  usage: FAILBACK_USAGE,
  example: '/recover failback',
  description: 'After a failover: rewind the old primary against the DR primary (pg_rewind), attach it as a standby, switch back to it; or, its data directory lost, restore a dump of DR into the rebuilt primary and swap it in.',
  home: 'runner',
  schema: failbackSchema,
  parse: failbackArgs,
  parseCli: (tokens) => withCommonCliFlags(failbackArgs, tokens),
  cliHelp: CLI_HELP,
  risk: () => 'destructive',
  confirmation: (_args, facts) => facts.production.name,
  gather: async (ctx, args) => {
    const facts = await gatherFailback(ctx.engine, ctx.config, args);
    // The dump path's database (read only when the rebuilt primary answers): a user database there (engine/targets), refused before any plan otherwise.
    if (facts.dump) await requireTargetDatabases(sideConnection(ctx.config, 'production'), [facts.dump.database], 'swap');
    return facts;
  },
  plan: failbackPlan,
  steps: FAILBACK_STEPS,
  paramsSchema: failbackParamsSchema,
  run: (ctx, params) => runFailback(ctx.engine, ctx.config, params, (kind) => ctx.beforeDestructiveStep(kind), ctx.copies),
  resultSchema,
  verdict(result) {
    if (result.method === 'dump') return null;
    const s = result.switchover;
    if (s && !s.writesAccepted) return new RecoverError('COMMAND_FAILED', `${s.to} was promoted but does not accept writes.`, { hint: 'Look at its server log.' });
    if (s && !s.rejoined.streaming) return new RecoverError('COMMAND_FAILED', `${s.to} is the primary again, but ${s.from} does not stream from it.`, { hint: "Look at DR's log; it is in recovery (not writable)." });
    if (s?.reconnect && !s.reconnect.ok) return new RecoverError('COMMAND_FAILED', `${s.to} is the primary again, but the application did not reconnect: ${s.reconnect.detail}.`, { hint: "Check the application's configuration and logs." });
    return null;
  },
  format: (result) => failbackLines(resultSchema.parse(result)).join('\n'),
  summary: (_params, result) => {
    const shown = resultSchema.safeParse(result);
    return { target: null, to: null, recovery: null, followUps: shown.success && result ? failbackLines(shown.data) : [] };
  },
};
