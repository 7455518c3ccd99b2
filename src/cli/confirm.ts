/**
 * Break-glass must not be one forgotten `--dry-run` from an outage. A plan that changes
 * production (`pitr --to in-place`, `rows`/`table --from-instance`, `database --swap`) runs
 * from the CLI only once it is confirmed with the text Slack's dialog asks for (the command's
 * `confirmation()`: production's name): `--confirm NAME` for scripts, else typed at a prompt
 * when stdin is a terminal. Anything else is refused, exit 2, before anything ran. Read-only
 * and side-copy plans need nothing, and refuse `--confirm` so no script believes it confirmed
 * something. Neither the value given nor the answer typed is ever printed back.
 */
import { createInterface } from 'node:readline';
import { RecoverError } from '../errors.js';
import type { Risk } from '../types.js';

export interface ConfirmInput {
  /** The plan's risk (or, if any step is destructive, 'destructive'). */
  risk: Risk;
  /** The exact text to type: the command's confirmation (production's name). */
  expected: string;
  /** `--confirm`'s value, if given. */
  given: string | undefined;
  dryRun: boolean;
  json: boolean;
  /** stdin is a terminal a person can answer at. */
  interactive: boolean;
  /** Whose name `expected` is: 'production' (default), or e.g. 'side instance' for `recover instances remove`. */
  subject?: string;
}

export type ConfirmDecision =
  | { kind: 'proceed' }
  | { kind: 'prompt'; question: string }
  | { kind: 'refuse'; error: RecoverError };

const refuse = (message: string, hint: string): ConfirmDecision => ({ kind: 'refuse', error: new RecoverError('BAD_INPUT', message, { hint }) });

/** Pure: what to do before running a plan (or printing its dry run). */
export function decideConfirmation(input: ConfirmInput): ConfirmDecision {
  const { risk, expected, given } = input;
  const subject = input.subject ?? 'production';
  const whose = subject === 'production' ? "production's name" : `the ${subject}'s name`;
  const again = subject === 'production' ? `Review the plan with --dry-run, then run the same command with --confirm ${expected}.` : `Run the same command with --confirm ${expected}.`;
  if (risk !== 'destructive') {
    if (given === undefined) return { kind: 'proceed' };
    return refuse(`--confirm is only for plans that change production; this plan is ${risk}, so there is nothing to confirm. Nothing ran.`, 'Run it again without --confirm.');
  }
  // Checked whenever given, --dry-run included, so a script learns of a wrong one before it matters.
  if (given !== undefined) {
    if (given === expected) return { kind: 'proceed' };
    return refuse(`--confirm does not match: this destructive plan is confirmed only by ${whose}, exactly (case-sensitive). Nothing ran.`, `Give --confirm ${expected} (after reviewing the plan with --dry-run).`);
  }
  if (input.dryRun) return { kind: 'proceed' };
  if (input.json) return refuse(`This plan is destructive: with --json it needs --confirm <${subject} name> (there is no prompt). Nothing ran.`, again);
  if (!input.interactive) {
    return refuse('This plan is destructive and stdin is not a terminal, so nobody can confirm it at a prompt. Nothing ran.', again);
  }
  return { kind: 'prompt', question: `Type the ${subject} name (${expected}) to run this destructive plan: ` };
}

/** Pure: whether the line typed at the prompt confirms (spaces around it are ignored, as in Slack's dialog); null = end of input. */
export function answerConfirms(expected: string, answer: string | null, subject = 'production'): RecoverError | null {
  if (answer !== null && answer.trim() === expected) return null;
  const what = answer === null ? 'no answer (end of input)' : `that is not the ${subject} name`;
  return new RecoverError('BAD_INPUT', `Not confirmed: ${what}. Nothing ran.`, {
    hint: `To run it, type exactly "${expected}" (case-sensitive) at the prompt, or give --confirm ${expected}.`,
  });
}

/** Asks on `output` and reads one line from `input`; null at end of input. */
export async function askLine(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, question: string): Promise<string | null> {
  output.write(question);
  const lines = createInterface({ input, terminal: false });
  try {
    return await new Promise<string | null>((resolve) => {
      lines.once('line', resolve);
      lines.once('close', () => resolve(null));
    });
  } finally {
    lines.close();
  }
}

/** Decides and, if it comes to that, prompts; throws the refusal (exit 2). */
export async function confirmOrRefuse(
  io: { stdin?: NodeJS.ReadableStream & { isTTY?: boolean }; stderr: NodeJS.WritableStream },
  input: Omit<ConfirmInput, 'interactive'>,
): Promise<void> {
  // stdin is looked at only for a destructive plan (entry.ts creates it on first use).
  const decision = decideConfirmation({ ...input, interactive: input.risk === 'destructive' && Boolean(io.stdin?.isTTY) });
  if (decision.kind === 'refuse') throw decision.error;
  if (decision.kind === 'proceed') return;
  const refusal = answerConfirms(input.expected, await askLine(io.stdin!, io.stderr, decision.question), input.subject);
  if (refusal) throw refusal;
}
