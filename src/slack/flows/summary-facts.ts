/**
 * What a job's command contributes to Slack (its target, where it restored, what it reached),
 * from the command's own definition: the stored plan's params and the job's result go through
 * the command's summary() and resultSchema; a command without them contributes nothing.
 */
import { findCommand, type SummaryFacts } from '../../../commands/index.js';
import type { Plan } from '../../types.js';

export const NO_SUMMARY_FACTS: SummaryFacts = { target: null, to: null, recovery: null, followUps: [] };

/** `result` of a job that ran to the end (succeeded, or failed by its verdict); null otherwise. */
export function summaryFactsOf(plan: Plan | null | undefined, result: unknown): SummaryFacts {
  const command = plan ? findCommand(plan.command) : undefined;
  if (!plan || !command?.summary) return NO_SUMMARY_FACTS;
  const shown = result === null || result === undefined || !command.resultSchema ? null : command.resultSchema.safeParse(result);
  return command.summary(plan.params ?? {}, shown?.success ? shown.data : null);
}
