/**
 * `recover pitr …`: the same words, the same validation and the same plan as Slack's
 * `/recover pitr …` (commands/pitr.ts), then the restore. Everything that can be refused is
 * refused before anything is created: bad words (exit 2), then a plan that cannot be met —
 * a target outside the window, missing WAL, an instance name or port in use (exit 3).
 */
import { randomBytes } from 'node:crypto';
import { pitr, parsePitrCli, targetFromArgs, type PitrArgs } from '../../commands/pitr.js';
import { runPitr } from '../engine/pitr.js';
import { selectRestore } from '../catalog/select-restore.js';
import { EXIT, RecoverError } from '../errors.js';
import { listInstances } from '../runner/planner.js';
import { readCatalog } from '../engine/read-catalog.js';
import { formatPitr, formatPlan, formatSelection } from './format.js';
import { assertPortFree, createRuntime, printFailure, printResult, type CliIo } from './runtime.js';

export const PITR_HELP = `
Words (the same as /recover pitr in Slack; the last three only here):
  <time with offset>       recover to this time, e.g. 2025-01-15T14:29:59.120555+00:00 (microseconds kept)
  --at <time>              the same, as an option
  --xid <xid> | --lsn <X/Y> | --name <restore point> | --immediate | --latest
                           the other targets (exactly one target in all)
  --inclusive|--exclusive  stop just after (default) or just before the target
  --action promote|pause   what to do at the target (default promote)
  --to side|in-place       a new side instance (default) or over production
  --backup <id>            use this base backup instead of the newest that fits
  --db <name…>             databases to verify (default all); repeat, or a,b, or several names
  --instance <name>        side instance name under RECOVER_RESTORE_ROOT (default pitr-<UTC>-<random>)
  --port <1024-65535>      side instance port (default a free port); refused if in use
  --dry-run                show the plan, change nothing
  --json                   print exactly one JSON object, also on failure

Exit status: 0 done, 1 failed (including failed verification), 2 bad input, 3 refused (the plan
cannot be met: target outside the window, WAL gap, no base backup, name or port in use).`;

type PitrParams = Omit<PitrArgs, 'db' | 'backupId' | 'instance'> & { backupId: string; instanceName: string | null; databases: string[] | null };

export async function pitrCommand(io: CliIo, tokens: string[], setExitCode: (code: number) => void): Promise<void> {
  const args = parsePitrCli(tokens);
  const runtime = await createRuntime(io, { json: args.json });
  const { config, context } = runtime;
  if (args.port !== undefined) await assertPortFree(args.port);
  const now = context.clock.now();
  const catalog = await readCatalog(context.storage, now);
  const facts = {
    catalog,
    now,
    production: { name: config.productionName ?? 'production' },
    requestId: randomBytes(4).toString('hex'),
    instancesInUse: await listInstances(config.restoreRoot),
  };
  // The same checks as the runner's planning, the WAL's contents included.
  await pitr.precheck!({ engine: context, pg: config.pg }, args, facts);
  const plan = pitr.plan!(args, facts);
  const params = plan.params as PitrParams;
  const target = targetFromArgs(params.target);
  if (args.dryRun) {
    const selection = selectRestore(catalog, target, { backupId: params.backupId });
    printResult(io, args.json, { ...selection, plan }, () => `${formatPlan(plan)}\n${formatSelection(selection)}`);
    return;
  }
  process.once('SIGINT', () => runtime.abort.abort());
  const result = await runPitr(context, config, {
    target,
    inclusive: params.inclusive,
    action: params.action,
    to: params.to,
    backupId: params.backupId,
    ...(params.instanceName ? { instanceName: params.instanceName } : {}),
    ...(args.port !== undefined ? { port: args.port } : {}),
    ...(params.databases ? { databases: params.databases } : {}),
  });
  if (!result.report.ok) {
    const failed = result.report.checks.filter((check) => !check.ok).map((check) => check.message);
    const failure = new RecoverError('VERIFY_FAILED', `The restore finished but verification failed: ${failed.join('; ')}.`, {
      hint: `The restored instance is left as it is for inspection (${result.dataDir}). Check the failed items; stop it with pg_ctl stop -D ${result.dataDir} when done.`,
    });
    if (!args.json) io.stdout.write(`${formatPitr(result)}\n`);
    setExitCode(printFailure(io, args.json, failure, result));
    return;
  }
  printResult(io, args.json, result, () => formatPitr(result));
  setExitCode(EXIT.ok);
}
