/**
 * `/recover switchover` and `recover switchover` (runbook §5, issue 21): a planned role swap with
 * both servers alive — production (RECOVER_SOURCE_URL) and DR (RECOVER_STANDBY_URL), whichever is
 * the primary now. The primary is stopped cleanly, the standby promoted once it replayed the
 * shutdown checkpoint (zero transactions lost), and the old primary restarted as its standby
 * through a replication slot. Runs on the runner that holds the primary's data directory.
 */
import { z } from 'zod';
import { gatherSwitchover, type SwitchoverFacts } from '../../src/engine/failover/switchover-facts.js';
import { runSwitchover, SWITCHOVER_STEPS, type SwitchoverResult } from '../../src/engine/failover/switchover.js';
import { RecoverError } from '../../src/errors.js';
import type { RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { SWITCHOVER_USAGE, switchoverArgs, switchoverParamsSchema, switchoverPlan, switchoverSchema, type SwitchoverArgs, type SwitchoverParams } from './plan.js';

const resultSchema = z.object({
  from: z.string().catch(''),
  to: z.string().catch(''),
  checkpointLsn: z.string().catch('?'),
  timeline: z.number().nullable().catch(null),
  rtoSeconds: z.number().nullable().catch(null),
  writesPausedSeconds: z.number().nullable().catch(null),
  rejoined: z.object({ streaming: z.boolean(), detail: z.string() }).nullable().catch(null),
  switched: z.boolean().catch(false),
  reconnect: z.object({ ok: z.boolean(), detail: z.string() }).nullable().catch(null),
});
type Shown = z.infer<typeof resultSchema>;

const CLI_HELP = `
The same words as /recover switchover in Slack: production (RECOVER_SOURCE_URL) and DR (RECOVER_STANDBY_URL)
swap roles, both alive. Run on the primary's host (RECOVER_SOURCE_DATA_DIR, or RECOVER_STANDBY_DATA_DIR for DR).
  --dry-run  show the plan, change nothing      --json  one JSON object      --confirm <text>  run without the prompt
Exit 3 (FAILOVER_REFUSED): not started (a side down, two primaries, a standby that does not stream, …).`;

const seconds = (value: number | null) => (value === null ? '?' : `${Math.round(value * 10) / 10} s`);

/** The result as lines, for the CLI and the Slack summary. */
export function switchoverLines(result: Shown): string[] {
  return [
    `${result.to} is the primary (timeline ${result.timeline ?? '?'}); ${result.from} was stopped cleanly and rejoined as its standby.`,
    `RPO: nothing lost — ${result.to} replayed ${result.from}'s shutdown checkpoint (${result.checkpointLsn}) before it was promoted.`,
    `RTO: writes accepted ${seconds(result.rtoSeconds)} after the request; writes were refused for ${seconds(result.writesPausedSeconds)} (shutdown to promotion).`,
    result.rejoined ? `Old primary: ${result.rejoined.detail}${result.rejoined.streaming ? '' : ' — its slot is NOT active'}.` : 'Old primary: not rejoined.',
    result.switched ? 'Application switch hook ran.' : 'No application switch configured: point the application at the new primary.',
    ...(result.reconnect ? [`Application ${result.reconnect.ok ? 'reconnected' : 'did NOT reconnect'}: ${result.reconnect.detail}.`] : []),
  ];
}

export const switchover: RecoverCommand<SwitchoverArgs, SwitchoverFacts, SwitchoverParams, SwitchoverResult, Shown> = {
  name: 'switchover',
  usage: SWITCHOVER_USAGE,
  example: '/recover switchover',
  description: 'Planned role swap, both servers alive: stop the primary cleanly, promote the standby once it replayed everything (nothing lost), restart the old primary as its standby.',
  home: 'runner',
  schema: switchoverSchema,
  parse: switchoverArgs,
  parseCli: (tokens) => withCommonCliFlags(switchoverArgs, tokens),
  cliHelp: CLI_HELP,
  risk: () => 'destructive',
  confirmation: (_args, facts) => facts.production.name,
  gather: (ctx) => gatherSwitchover(ctx.config),
  plan: switchoverPlan,
  steps: SWITCHOVER_STEPS,
  paramsSchema: switchoverParamsSchema,
  run: (ctx, params) => runSwitchover(ctx.engine, ctx.config, params, (kind) => ctx.beforeDestructiveStep(kind)),
  resultSchema,
  verdict(result) {
    if (!result.writesAccepted) return new RecoverError('COMMAND_FAILED', `${result.to} was promoted but does not accept writes.`, { hint: 'Look at its server log (read-only mode, default_transaction_read_only).' });
    if (!result.rejoined.streaming) return new RecoverError('COMMAND_FAILED', `${result.to} is the new primary, but the old primary ${result.from} does not stream from it through slot ${result.rejoined.slot}.`, { hint: 'Look at the old primary\'s log; it is in recovery (not writable). Drop the slot if you rebuild it another way.' });
    if (result.reconnect && !result.reconnect.ok) return new RecoverError('COMMAND_FAILED', `${result.to} is the new primary, but the application did not reconnect: ${result.reconnect.detail}.`, { hint: "Check the application's configuration and logs; rerun the switch by hand if needed." });
    return null;
  },
  format: (result) => switchoverLines(resultSchema.parse(result)).join('\n'),
  summary: (_params, result) => {
    const shown = resultSchema.safeParse(result);
    return { target: null, to: null, recovery: null, followUps: shown.success && result ? switchoverLines(shown.data) : [] };
  },
};
