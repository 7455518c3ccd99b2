/**
 * `recover jobs`, `recover status [<job>]` and `recover cancel <job>`: the commands the bot
 * answers from the control DB (commands/jobs.ts, status.ts, cancel.ts; the same words, parsed
 * by the same definitions), answered here from RECOVER_CONTROL_URL for when Slack is down.
 * Who may cancel: in Slack the requester or an approver; here, whoever can reach the control
 * DB with the runner's settings (an operator on a runner host). The cancel is audited with
 * the OS user and host (`cli:<user>@<host>`), and the job's channel sees who asked once the
 * runner stops it.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { COMMANDS, type RecoverCommand } from '../../commands/index.js';
import type { BotActions } from '../../commands/types.js';
import { cliWords, withCommonCliFlags } from '../../commands/words.js';
import { getJob, requestCancel, type Db } from '../control/index.js';
import { RecoverError } from '../errors.js';
import { listJobRows, loadJobSnapshot, type JobSnapshot, type JobSummaryRow } from '../slack/flows/job-snapshot.js';
import { formatJobList, formatJobStatus } from './job-format.js';
import { createRuntime, printResult, type CliIo } from './runtime.js';
import { controlPool } from './service-commands.js';

/** Who cancels from a terminal, as the audit log records it. */
export function cliActor(): { actor: string; osUser: string; host: string } {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = `uid-${process.getuid?.() ?? '?'}`; // no passwd entry (a container's arbitrary uid)
  }
  const host = hostname();
  return { actor: `cli:${osUser}@${host}`, osUser, host };
}

const noJob = (jobId: string) => new RecoverError('BAD_INPUT', `There is no job ${jobId} in the control database.`, { hint: '`/recover jobs` lists job ids (`--all`: of every runner pool).' });

function jobJson(row: JobSummaryRow) {
  const { job, request, view } = row;
  const step = view?.current ? view.steps.find((s) => s.step === view.current) : undefined;
  return {
    id: job.id, pool: job.pool, status: job.status, command: request?.command ?? null, summary: row.summary, requester: request?.requesterId ?? null,
    createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt, current: view?.current ? { step: view.current, progress: step?.progress ?? null } : null,
    cancelRequestedBy: job.cancelRequestedBy, error: job.error,
  };
}

function statusJson(s: JobSnapshot) {
  return {
    ...jobJson({ job: s.job, request: s.request, summary: s.plan?.summary ?? null, view: s.view }),
    runnerId: s.job.runnerId, approvedBy: s.approvedBy, steps: s.view.steps, integrity: s.view.integrity, silence: s.silence,
  };
}

/** The control-DB commands' actions in a terminal: print, or refuse with the exit status of the case. */
export function cliJobActions(io: CliIo, control: Db, options: { json: boolean; pool: string }): BotActions {
  const { json } = options;
  return {
    // `recover help` is commander's own (addJobCommands leaves help out); in a terminal the likely scenario is `recover scenarios <words>`.
    showHelp: async () => printResult(io, json, COMMANDS.map((c) => c.name), () => COMMANDS.map((c) => `recover ${c.usage}`).join('\n')),
    async listJobs({ all }) {
      const pool = all ? null : options.pool;
      const rows = await listJobRows(control, { pool, recentLimit: 20 });
      printResult(io, json, { pool, jobs: rows.map(jobJson) }, () => formatJobList(rows, pool));
    },
    async showJob(jobId) {
      const snapshot = await loadJobSnapshot(control, jobId);
      if (!snapshot) throw noJob(jobId);
      printResult(io, json, statusJson(snapshot), () => formatJobStatus(snapshot));
    },
    async cancelJob(jobId) {
      const { actor, osUser, host } = cliActor();
      if (!(await getJob(control, jobId))) throw noJob(jobId);
      const { job, effect } = await requestCancel(control, jobId, actor, { via: 'cli', osUser, host });
      if (effect === 'already-finished') {
        throw new RecoverError('JOB_ENDED', `Job ${job.id} already ended (${job.status}); there is nothing to cancel.`, { hint: `\`/recover status ${job.id}\` shows how it ended.` });
      }
      const text = {
        cancelled: `Cancelled job ${job.id} before it started; nothing ran.`,
        requested: `Asked job ${job.id} to stop; its runner stops at the next safe point (finished steps stay done). Follow it with recover status ${job.id}.`,
        'already-requested': `Cancelling job ${job.id} was already requested (by ${job.cancelRequestedBy ?? '?'}); its runner stops at the next safe point.`,
      }[effect];
      printResult(io, json, { jobId: job.id, effect, by: actor, status: job.status }, () => text);
    },
  };
}

export async function runControlCommand(io: CliIo, command: RecoverCommand, tokens: string[]): Promise<void> {
  const { args, cli } = withCommonCliFlags((words) => command.parse(words), cliWords(tokens), ['--json']);
  const runtime = await createRuntime(io, { json: cli.json });
  const control = controlPool(runtime.config.controlUrl, { max: 2, connectionTimeoutMillis: 10_000 }, runtime.log);
  try {
    await command.answer!(cliJobActions(io, control, { json: cli.json, pool: runtime.config.pool }), args);
  } finally {
    await control.end();
  }
}

/** One subcommand per command the bot answers from the control DB (help is commander's own). */
export function addControlCommands(program: Command, io: CliIo, guarded: (json: boolean, work: () => Promise<void>) => Promise<void>): void {
  for (const command of COMMANDS.filter((c) => c.home === 'bot' && c.answer && c.name !== 'help')) {
    program
      .command(command.name)
      .description(`${command.description} (reads RECOVER_CONTROL_URL)`)
      .usage(`${command.usage.slice(command.name.length).trim()} [--json]`.trim())
      .helpOption('-h, --help', 'show this help')
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[words...]')
      .addHelpText('after', `\nThe same words as in Slack. Example: ${command.example.replace(/^\//, '')}\n  --json  print exactly one JSON object, also on failure\n`)
      .action((_words: string[], _options: unknown, sub: Command) => guarded(sub.args.includes('--json'), () => runControlCommand(io, command, sub.args)));
  }
}
