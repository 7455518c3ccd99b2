/**
 * `/recover disk [--fix …]` and `recover disk …` (runbook §8.3): production's disk is full.
 * The report (read-only, server up or down) says what fills the data directory and pg_wal and
 * what can be freed safely; `--fix` (destructive: production's name typed, then approval)
 * archives the `.ready` backlog itself through the checked upload, removes only WAL archived
 * and older than REDO, a stopped server's temporary files and (asked) old logs, drops a slot
 * only when named, then starts production and checks it writes and archives. Runs on the
 * database host (it reads production's data directory).
 */
import { z } from 'zod';
import { runDiskFix, DISK_STEPS, type DiskFixResult } from '../../src/engine/disk/fix.js';
import { inspectDisk } from '../../src/engine/disk/inspect.js';
import { diskReport, type DiskReport } from '../../src/engine/disk/report.js';
import { RecoverError } from '../../src/errors.js';
import { step } from '../../src/engine/restore-to-target.js';
import { formatPlan } from '../format.js';
import { type RecoverCommand, type CommandContext } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { DISK_EXAMPLE, DISK_USAGE, diskArgs, diskSchema, type DiskArgs } from './args.js';
import { diskParamsSchema, diskPlan, type DiskParams, type DiskPlanFacts } from './plan.js';
import { fixLines, formatReport } from './view.js';

export type DiskResult = { mode: 'report'; production: string; report: DiskReport } | { mode: 'fix'; fix: DiskFixResult };
const resultSchema = z.object({ mode: z.enum(['report', 'fix']).catch('report'), report: z.unknown().optional(), fix: z.unknown().optional() });

const CLI_HELP = `
The same words as /recover disk in Slack.
  recover disk                 what fills the data directory and pg_wal, and what can be freed safely (read-only)
  recover disk --fix           archive the waiting WAL (checked), remove WAL archived and older than REDO,
                               a stopped server's temporary files; start production; check writes and archiving
  --drop-slot NAME             with --fix: also drop that replication slot (its standby must be rebuilt);
                               confirmed with <production name>/NAME
  --logs-older-than DAYS       with --fix: also remove server logs older than that
  --dry-run  show the plan, change nothing      --json  one JSON object
  --confirm <production name>  run the fix without the prompt (scripts)
Exit 3 (DISK_FULL_NOTHING_SAFE) when nothing can be freed safely: nothing was changed.`;

function dataDirOf(ctx: CommandContext): string {
  const dataDir = ctx.config.source.dataDir;
  if (!dataDir) {
    throw new RecoverError('CONFIG_INVALID', '`disk` reads production\'s data directory: set RECOVER_SOURCE_DATA_DIR (and run it on the database host).', { hint: 'With the runner: a runner of this pool on the database host with RECOVER_SOURCE_DATA_DIR plans it.' });
  }
  return dataDir;
}

export const disk: RecoverCommand<DiskArgs, DiskPlanFacts, DiskParams, DiskResult, z.infer<typeof resultSchema>> = {
  name: 'disk',
  usage: DISK_USAGE,
  example: DISK_EXAMPLE,
  description: "Production's disk is full: what fills it and what is safe to free (read-only); --fix archives the waiting WAL, frees only what is safe, restarts and checks.",
  home: 'runner',
  schema: diskSchema,
  parse: diskArgs,
  parseCli: (tokens) => withCommonCliFlags(diskArgs, tokens),
  cliHelp: CLI_HELP,
  risk: (args) => (args.fix ? 'destructive' : 'read-only'),
  runsOn: () => 'database-host',
  // Dropping a slot breaks its standby: its own confirmation, naming it.
  confirmation: (args, facts) => (!args.fix ? null : args.dropSlot ? `${facts.production.name}/${args.dropSlot}` : facts.production.name),
  async gather(ctx) {
    return { disk: await inspectDisk(ctx.engine, ctx.config, dataDirOf(ctx)) };
  },
  plan: diskPlan,
  dryRun: (plan, facts) => ({ result: { plan, report: diskReport(facts.disk) }, text: formatPlan(plan) }),
  steps: DISK_STEPS,
  paramsSchema: diskParamsSchema,
  async run(ctx, params) {
    if (params.dataDir !== dataDirOf(ctx)) throw new RecoverError('CONFIG_INVALID', `This plan is for ${params.dataDir}, and this runner's RECOVER_SOURCE_DATA_DIR is ${dataDirOf(ctx)}. Nothing was done.`);
    if (params.mode === 'report') {
      const finish = step(ctx.engine, 'report', 'Read what fills the disk');
      const report = diskReport(await inspectDisk(ctx.engine, ctx.config, params.dataDir));
      finish(`${report.wal.ready.count} segment(s) waiting to be archived`);
      return { mode: 'report', production: ctx.config.productionName ?? 'production', report };
    }
    return { mode: 'fix', fix: await runDiskFix(ctx.engine, ctx.config, params, (kind) => ctx.beforeDestructiveStep(kind)) };
  },
  resultSchema,
  verdict(result) {
    if (result.mode !== 'fix' || result.fix.archiving.resumed) return null;
    return new RecoverError('COMMAND_FAILED', `Production runs and accepts writes, but archiving has not resumed: ${result.fix.archiving.detail}. pg_wal will fill again.`, {
      hint: 'Bring the WAL archive storage back (the WAL agent\'s log and pg_stat_archiver say why it fails), then run /recover disk to see the waiting segments.',
    });
  },
  format: (result) => (result.mode === 'report' ? formatReport(result.report, result.production) : fixLines(result.fix).join('\n')),
  summary: (_params, result) => {
    const shown = resultSchema.safeParse(result);
    const lines = !shown.success ? [] : shown.data.mode === 'fix' && shown.data.fix ? fixLines(shown.data.fix as DiskFixResult) : ((shown.data.report as DiskReport | undefined)?.advice ?? []);
    return { target: null, to: null, recovery: null, followUps: lines };
  },
};
