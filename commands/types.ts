/**
 * What a /recover subcommand is. One file per subcommand in this folder; `index.ts` lists
 * them, and the runner, the bot and the CLI only ever go through this interface: none of
 * them switches on a command's name.
 *
 * A runner command: `gather()` reads the facts it needs to plan (runner or CLI side, with
 * storage and PostgreSQL at hand), `plan()` is pure, `run()` executes the plan's params and
 * reports exactly the steps it declared. A bot command: `answer()` is given the bot's few
 * actions. The bot holds no storage credentials: it never gathers, plans or runs.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { z } from 'zod';
import type { Config } from '../src/config.js';
import type { EngineContext } from '../src/engine/context.js';
import type { CopyRecords } from '../src/engine/database/copy-records.js';
import type { OperationStates } from '../src/engine/azure/operation.js';
import { RecoverError } from '../src/errors.js';
import type { Plan, Risk, Step, StepEstimate } from '../src/types.js';
import type { MeasuredRates } from '../src/estimate/rates.js';

export { parseFlags, tokenize, type ParsedFlags } from './words.js';

/** What every plan may use, whatever the command gathers. */
export interface BaseFacts {
  now: Date;
  /** The production cluster this runner pool serves, as people name it (e.g. aiagent_prod). */
  production: { name: string };
  /** The request being planned (Slack) or a random id (CLI): generated names include it, so they are unique. */
  requestId: string;
  /**
   * Restore rates measured on this runner pool (the runner's planner reads them from the control
   * DB); absent or empty: estimates use the documented defaults and say they are not yet measured.
   */
  rates?: MeasuredRates;
}

/** The facts of commands that read the backup catalog (pitr's, today): kept under its old name. */
export interface PlanFacts extends BaseFacts {
  catalog: import('../src/catalog/catalog.js').Catalog;
  /** Side instance names already taken: the directories under the restore root. */
  instancesInUse: readonly string[];
}

/** Where a command is answered: by the bot from the control DB, or planned and run by a runner. */
export type CommandHome = 'bot' | 'runner';

/** Words only the recover CLI takes (refused in Slack); each command declares which it accepts. */
export interface CliOptions {
  json: boolean;
  dryRun: boolean;
  port?: number;
  /**
   * `--confirm NAME`: the typed confirmation of a destructive plan for scripts (production's
   * name, as Slack's dialog asks); without it a terminal is prompted (src/cli/confirm.ts).
   */
  confirm?: string;
}

/** What gather() and run() may use: the engine's context, the configuration, and the CLI's own words (null in the runner). */
export interface CommandContext {
  engine: EngineContext;
  config: Config;
  cli: CliOptions | null;
  /**
   * recover-bot's own record of the database copies it made and verified (the runner's: the
   * control DB; the CLI's: files under RECOVER_STATE_DIR, and the control DB's when configured).
   * Absent: copies can be neither recorded nor swapped in (/recover database refuses both).
   */
  copies?: CopyRecords;
  /**
   * The serialized states of Azure long-running operations earlier jobs recorded (the runner's:
   * the control DB's step checkpoints): a job resumes polling one instead of sending it again.
   * Absent (the CLI): an operation under way is followed by reading its server.
   */
  operations?: OperationStates;
  /** The credential for Azure Resource Manager instead of RECOVER_AZURE_CREDENTIAL's (tests: a fake one). */
  azureCredential?: TokenCredential;
}

export interface RunContext extends CommandContext {
  /** Called before every destructive step; throws to stop (the runner re-checks approvals here). */
  beforeDestructiveStep(step: string): Promise<void>;
}

/** A step a command may put in its plans and must report, by kind, when it runs. */
export interface StepDeclaration {
  kind: string;
  title: string;
  destructive: boolean;
}

/** What the end-of-job summary in Slack shows of a command's params and result (plain values; the view formats them). */
export interface SummaryFacts {
  /** The recovery target asked for in words; for a time target `time` is its exact text (the view formats it). Null: no target. */
  target: { text: string; time: string | null } | null;
  /** Where a restore lands. */
  to: 'side' | 'in-place' | null;
  /** What a restore reached; null when the command restores nothing. */
  recovery: {
    reachedTime: string | null;
    replayLsn: string | null;
    timeline: number | null;
    dataDir: string | null;
    port: number | null;
    connect: string | null;
    oldDataDir: string | null;
  } | null;
  /** Plain-text follow-ups of a succeeded job. */
  followUps: string[];
  /**
   * The command's own follow-ups say what becomes of its side instance (rows, table and
   * database copy from it and remove it): the generic "extract what you need, then remove it"
   * advice would contradict them.
   */
  sideInstanceHandled?: boolean;
}

/**
 * What answers the commands of the control DB (help, jobs, status, cancel): the bot in Slack,
 * the CLI in a terminal (for when Slack is down). Each surface lends its own.
 */
export interface BotActions {
  /** `about`: what happened, in a few words: the likely scenario comes first (scenarios/table.ts). */
  showHelp(about?: string): Promise<void>;
  /** The running and recent jobs: of this runner pool (RECOVER_POOL), or of every pool. */
  listJobs(options: { all: boolean }): Promise<void>;
  /** One job, as its status message shows it. */
  showJob(jobId: string): Promise<void>;
  cancelJob(jobId: string): Promise<void>;
}

/** Args: the words, validated. Facts: what gather() read. Params: the plan's params, as run() takes them. Result: what run() returns; Shown: the result as the bot reads it back. */
export interface RecoverCommand<Args = any, Facts = any, Params = any, Result = any, Shown = Result> {
  name: string;
  /** One line, shown in help and in refusals: `pitr <time with offset> [--db NAME] …`. */
  usage: string;
  /** A correct, copyable example: `/recover pitr 2025-01-15T14:29:59+00:00`. */
  example: string;
  description: string;
  home: CommandHome;
  schema: z.ZodType<Args>;
  /** The words after the subcommand in Slack → validated args; throws RecoverError('BAD_INPUT') naming the fix. */
  parse(tokens: string[]): Args;
  /** The same words in the recover CLI, plus the CLI-only words this command takes (default: --json and --dry-run). */
  parseCli?(tokens: string[]): { args: Args; cli: CliOptions };
  /** Extra help text for `recover <name> --help`. */
  cliHelp?: string;
  risk(args: Args): Risk;
  /**
   * Where a runner must be: 'database-host' for what acts on production's data directory (a
   * runner with RECOVER_SOURCE_DATA_DIR plans it, and only one on that host runs it); default anywhere.
   */
  runsOn?(args: Args): 'database-host' | 'anywhere';
  /** For destructive commands: the exact text the requester must type to confirm, else null. */
  confirmation(args: Args, facts: { production: { name: string } }): string | null;

  /** Bot commands: the answer, with the bot's actions. */
  answer?(bot: BotActions, args: Args): Promise<void>;

  /** Runner commands: everything plan() needs beyond BaseFacts; may refuse (as plan() does) with what it read. */
  gather?(ctx: CommandContext, args: Args): Promise<Facts>;
  /** Pure: the plan people see and approve. */
  plan?(args: Args, facts: Facts & BaseFacts): Plan;
  /** Read-only commands answered by their plan (no job): the full answer, for the CLI. */
  report?(args: Args, facts: Facts & BaseFacts): { result: unknown; text: string };
  /** A report that found something wrong (a failed preflight check): the CLI exits 1 with it after printing the report. */
  reportVerdict?(result: unknown): RecoverError | null;
  /** The CLI's --dry-run: what to print besides the plan (default the plan alone). */
  dryRun?(plan: Plan, facts: Facts & BaseFacts): { result: unknown; text: string };

  /** Every step kind plans of this command may hold; run() reports exactly the plan's, in order. */
  steps?: readonly StepDeclaration[];
  /** The plan's params as run() takes them: the runner parses stored params with it. */
  paramsSchema?: z.ZodType<Params>;
  run?(ctx: RunContext, params: Params): Promise<Result>;
  /** The result's shape as stored in the control DB; the bot parses it with this (defensively: what is missing is null). */
  resultSchema?: z.ZodType<Shown>;
  /** A result that ran but must not count as success in the CLI (exit 1), e.g. failed verification. */
  verdict?(result: Result, params: Params): RecoverError | null;
  /** The CLI's text for a result. */
  format?(result: Result): string;
  /** What the Slack summary shows, from the plan's params as stored (parsed by the command, leniently) and the result (null unless the job succeeded). */
  summary?(params: unknown, result: Shown | null): SummaryFacts;
}

/** A step of a plan from the command's declaration (its kind, default title, destructive flag). */
export function declaredStep(
  declared: readonly StepDeclaration[],
  kind: string,
  extra: { title?: string; destructive?: boolean; estimateSeconds?: number; estimate?: StepEstimate; params?: Record<string, unknown> } = {},
): Step {
  const step = declared.find((s) => s.kind === kind);
  if (!step) throw new RecoverError('INTERNAL', `Step kind "${kind}" is not declared by the command.`);
  return {
    kind,
    title: extra.title ?? step.title,
    params: extra.params ?? {},
    destructive: extra.destructive ?? step.destructive,
    ...(extra.estimateSeconds !== undefined ? { estimateSeconds: extra.estimateSeconds } : {}),
    ...(extra.estimate !== undefined ? { estimate: extra.estimate } : {}),
  };
}
