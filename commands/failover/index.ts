/**
 * `/recover failover` and `recover failover` (runbook §5.1, §8.2; issue 21): the primary is gone,
 * promote the DR standby (RECOVER_STANDBY_URL) without losing what it received and never with two
 * writable primaries. The plan shows the standby's replication state, the lag and the data-loss
 * window; the run replays what was received (resuming a paused replay), fences the old primary if
 * it answers, promotes, checks writes and integrity, then switches the application (an argv hook)
 * and waits until it reconnects. Runs on any runner that reaches the standby (production's host
 * may be gone); a plan that fences with pg_ctl (a runner with RECOVER_SOURCE_DATA_DIR) is bound to that host.
 */
import { z } from 'zod';
import { gatherAzureFailover, runAzurePromote, type AzureFailoverFacts, type AzurePromoteParams, type AzurePromoteResult } from '../../src/engine/azure/promote.js';
import { gatherFailover } from '../../src/engine/failover/facts.js';
import { FAILOVER_STEPS, runFailover, type FailoverResult } from '../../src/engine/failover/run.js';
import { RecoverError } from '../../src/errors.js';
import type { RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { FAILOVER_EXAMPLE, FAILOVER_USAGE, failoverArgs, failoverConfirmation, failoverSchema, type FailoverArgs } from './args.js';
import { AZURE_FAILOVER_STEPS, azureFailoverPlan, azurePromoteParamsSchema } from './azure-plan.js';
import { failoverParamsSchema, failoverPlan, type FailoverParams } from './plan.js';
import type { FailoverFacts } from '../../src/engine/failover/facts.js';

const resultSchema = z.object({
  standby: z.string().catch(''),
  timeline: z.number().nullable().catch(null),
  promotedAt: z.string().nullable().catch(null),
  rtoSeconds: z.number().nullable().catch(null),
  lastReplayedCommit: z.string().nullable().catch(null),
  fence: z.object({ detail: z.string() }).nullable().catch(null),
  integrity: z.object({ ok: z.boolean(), failed: z.array(z.string()) }).nullable().catch(null),
  switched: z.boolean().catch(false),
  reconnect: z.object({ ok: z.boolean(), detail: z.string() }).nullable().catch(null),
});
/** An Azure promotion's result (RECOVER_FAILOVER_PROVIDER=azure), told apart by its provider. */
const azureResultSchema = z.object({
  provider: z.literal('azure'),
  replica: z.string().catch(''),
  promoteMode: z.string().catch(''),
  promoteOption: z.string().catch(''),
  followed: z.string().catch(''),
  promotedAt: z.string().nullable().catch(null),
  rtoSeconds: z.number().nullable().catch(null),
  role: z.string().catch(''),
  state: z.string().catch(''),
  fqdn: z.string().nullable().catch(null),
  switched: z.boolean().catch(false),
  reconnect: z.object({ ok: z.boolean(), detail: z.string() }).nullable().catch(null),
});
const shownSchema = z.union([azureResultSchema, resultSchema]);
type Shown = z.infer<typeof shownSchema>;

export function azureFailoverLines(result: z.infer<typeof azureResultSchema>): string[] {
  return [
    `Promoted the Azure read replica ${result.replica} (${result.promoteMode}, ${result.promoteOption}) at ${result.promotedAt ?? '?'}: now ${result.role}, ${result.state}${result.rtoSeconds === null ? '' : `; ${Math.round(result.rtoSeconds)} s after the request (RTO)`}.`,
    result.promoteOption === 'Forced' ? 'RPO: Forced, accepted with --accept-data-loss: what the replica had not received is lost.' : 'RPO: Planned: Azure waited until the replica was in sync, nothing lost.',
    result.followed === 'sent' ? 'The promotion was sent once.' : `The promotion was ${result.followed === 'resumed-poller' ? "an earlier job's, resumed from its recorded poller" : 'under way already and followed on the server'}: not sent again.`,
    `Address: ${result.fqdn ?? 'see the Azure portal'}.`,
    result.switched ? 'Application switch hook ran.' : 'No application switch configured: point the application at the new primary.',
    ...(result.reconnect ? [`Application ${result.reconnect.ok ? 'reconnected' : 'did NOT reconnect'}: ${result.reconnect.detail}.`] : []),
    result.promoteMode === 'Switchover' ? 'The old primary is now its replica.' : 'The old primary is not fenced by Azure: keep it down; rebuild it as a replica of the new primary.',
  ];
}

const shownLines = (result: Shown): string[] => ('provider' in result ? azureFailoverLines(result) : failoverLines(result));

const CLI_HELP = `
The same words as /recover failover in Slack: promote the DR standby (RECOVER_STANDBY_URL), or with
RECOVER_FAILOVER_PROVIDER=azure the flexible server's read replica (RECOVER_AZURE_REPLICA_SERVER: Switchover
while the primary is Ready, else Standalone with --primary-unreachable; Planned, or Forced with --accept-data-loss).
  --accept-data-loss DURATION  promote even if the apply lag is still above RECOVER_FAILOVER_MAX_LAG_S at the
                               deadline, up to this much (300, 5m, 1h); confirmed with <production name>/lose-up-to-<s>s
  --primary-unreachable        the old primary can be neither reached nor fenced: you checked it is gone for good
  --dry-run  show the plan (the standby's lag, the data-loss window), change nothing      --json  one JSON object
  --confirm <text>  run without the prompt (scripts)
Exit 3 (FAILOVER_REFUSED): not promoted (lag above the limit at the deadline, a primary that answers and cannot be fenced, …).`;

/** The result as lines, for the CLI and the Slack summary. */
export function failoverLines(result: z.infer<typeof resultSchema>): string[] {
  return [
    `Promoted ${result.standby} at ${result.promotedAt ?? '?'}: new timeline ${result.timeline ?? '?'}; writes accepted ${result.rtoSeconds === null ? '' : `${Math.round(result.rtoSeconds)} s after the request (RTO)`}.`,
    `RPO: everything the standby received was replayed (last replayed commit before promotion ${result.lastReplayedCommit ?? 'none'}); what the old primary committed and never sent is not on it.`,
    ...(result.fence ? [`Old primary: ${result.fence.detail}.`] : []),
    result.integrity ? (result.integrity.ok ? 'Integrity checks passed.' : `Integrity checks FAILED: ${result.integrity.failed.join(', ')}.`) : 'Integrity checks not run.',
    result.switched ? 'Application switch hook ran.' : 'No application switch configured: point the application at the new primary.',
    ...(result.reconnect ? [`Application ${result.reconnect.ok ? 'reconnected' : 'did NOT reconnect'}: ${result.reconnect.detail}.`] : []),
    'Do not start the old primary again as a primary: rebuild it as a standby of the new one (failback is not automated yet).',
  ];
}

export const failover: RecoverCommand<FailoverArgs, FailoverFacts | AzureFailoverFacts, FailoverParams | AzurePromoteParams, FailoverResult | AzurePromoteResult, Shown> = {
  name: 'failover',
  usage: FAILOVER_USAGE,
  example: FAILOVER_EXAMPLE,
  description: 'The primary is gone: promote the DR standby once it replayed what it received, fence the old primary first, check writes and integrity, switch the application.',
  home: 'runner',
  schema: failoverSchema,
  parse: failoverArgs,
  parseCli: (tokens) => withCommonCliFlags(failoverArgs, tokens),
  cliHelp: CLI_HELP,
  risk: () => 'destructive',
  confirmation: (args, facts) => failoverConfirmation(args, facts.production.name),
  // RECOVER_FAILOVER_PROVIDER chooses: the self-managed standby (RECOVER_STANDBY_URL) or the Azure read replica.
  gather: (ctx) => (ctx.config.failover?.provider === 'azure' ? gatherAzureFailover(ctx.config, ctx.azureCredential) : gatherFailover(ctx.config, ctx.engine.storage, ctx.engine.clock.now(), ctx.engine.log)),
  plan: (args, facts) => ('azure' in facts ? azureFailoverPlan(args, facts) : failoverPlan(args, facts)),
  steps: [...FAILOVER_STEPS, ...AZURE_FAILOVER_STEPS.filter((step) => !FAILOVER_STEPS.some((own) => own.kind === step.kind))],
  paramsSchema: z.union([azurePromoteParamsSchema, failoverParamsSchema]),
  run: (ctx, params) =>
    'provider' in params
      ? runAzurePromote(ctx.engine, ctx.config, params, ctx.operations, (kind) => ctx.beforeDestructiveStep(kind), ctx.azureCredential)
      : runFailover(ctx.engine, ctx.config, params, (kind) => ctx.beforeDestructiveStep(kind)),
  resultSchema: shownSchema,
  verdict(result) {
    if ('provider' in result) return result.reconnect && !result.reconnect.ok ? new RecoverError('COMMAND_FAILED', `${result.replica} is the new primary, but the application did not reconnect: ${result.reconnect.detail}.`, { hint: "Check the application's configuration and logs; rerun the switch by hand if needed." }) : null;
    if (!result.writesAccepted) return new RecoverError('COMMAND_FAILED', `${result.standby} was promoted but does not accept writes.`, { hint: 'Look at its server log (read-only mode, default_transaction_read_only).' });
    if (!result.integrity.ok) return new RecoverError('VERIFY_FAILED', `${result.standby} was promoted and accepts writes, but integrity checks failed: ${result.integrity.failed.join(', ')}.`, { hint: 'It is the only primary now: repair from it (see /recover verify), do not go back to the old one.' });
    if (result.reconnect && !result.reconnect.ok) return new RecoverError('COMMAND_FAILED', `${result.standby} is the new primary, but the application did not reconnect: ${result.reconnect.detail}.`, { hint: 'Check the application\'s configuration and logs; rerun the switch by hand if needed.' });
    return null;
  },
  format: (result) => shownLines(shownSchema.parse(result)).join('\n'),
  summary: (_params, result) => {
    const shown = shownSchema.safeParse(result);
    return { target: null, to: null, recovery: null, followUps: shown.success && result ? shownLines(shown.data) : [] };
  },
};
