/**
 * `recover instances` lists the side instances under RECOVER_RESTORE_ROOT (and what else is
 * there, with why it is not one); `recover instances remove NAME` removes one. Removal goes
 * only through the checked handle (engine/instances.ts openSideInstance, removeSideInstance:
 * a directory this tool created, checked again right before the stop and the removal), is
 * confirmed with the instance's name (`--confirm NAME`, or typed at the prompt: confirm.ts),
 * and refuses an instance whose server runs unless `--stop` asks to stop it first (exit 3).
 * CLI only: Slack has no word for it (the runner's jobs remove the instances they used).
 */
import { cliWords, parseFlags, takeConfirm } from '../../commands/words.js';
import { listRestoreRoot, type RestoreRootListing, type SideInstanceInfo } from '../engine/instance-list.js';
import { processAlive } from '../engine/in-place-recovery.js';
import { openSideInstance, removeSideInstance } from '../engine/instances.js';
import { readWorkJournal } from '../engine/work-journal.js';
import { RecoverError } from '../errors.js';
import { formatAmount } from '../util/format.js';
import { confirmOrRefuse } from './confirm.js';
import { createRuntime, printResult, type CliIo } from './runtime.js';

export const INSTANCES_USAGE = '[remove NAME [--stop] [--confirm NAME]] [--json]';
const HINT = 'Usage: recover instances [--json] | recover instances remove NAME [--stop] [--confirm NAME] [--json]';

export interface InstancesArgs {
  remove: string | null;
  stop: boolean;
  json: boolean;
  confirm: string | undefined;
}

/** Pure: the words after `recover instances`. */
export function parseInstancesWords(tokens: string[]): InstancesArgs {
  const { rest, confirm } = takeConfirm(cliWords(tokens));
  const { positional, flags } = parseFlags(rest, []);
  const unknown = Object.keys(flags).filter((flag) => flag !== 'stop' && flag !== 'json');
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint: HINT });
  const json = flags.json === true;
  if (positional.length === 0) {
    if (flags.stop || confirm !== undefined) throw new RecoverError('BAD_INPUT', '--stop and --confirm go with `remove NAME`; listing changes nothing.', { hint: HINT });
    return { remove: null, stop: false, json, confirm: undefined };
  }
  if (positional[0] !== 'remove') throw new RecoverError('BAD_INPUT', `Unknown word ${positional[0]}: \`recover instances\` lists, \`recover instances remove NAME\` removes one.`, { hint: HINT });
  if (positional.length !== 2) throw new RecoverError('BAD_INPUT', 'Name the one side instance to remove.', { hint: `${HINT}. \`recover instances\` lists them.` });
  return { remove: positional[1]!, stop: flags.stop === true, json, confirm };
}

function restoringText(restoring: SideInstanceInfo['restoring']): string {
  if (restoring === null) return '';
  if (restoring === 'unreadable') return '  RESTORE UNFINISHED (its work journal cannot be read)';
  return `  RESTORE UNFINISHED (${restoring.jobId ? `job ${restoring.jobId}` : 'a CLI restore'}, pid ${restoring.pid}, since ${restoring.startedAt}: running, or left by a lost runner)`;
}

function instanceLine(i: SideInstanceInfo, width: number): string {
  const size = i.bytes === null ? 'size ?' : formatAmount(i.bytes, 'bytes');
  const server = i.state === 'running' ? `running  port ${i.port} (pid ${i.pid})` : 'stopped';
  const by = i.jobId ? `job ${i.jobId}` : 'no job (CLI)';
  return `  ${i.name.padEnd(width)}  ${server.padEnd(30)}  created ${i.createdAt}  ${size}  ${by}  marker ${i.markerId}${restoringText(i.restoring)}\n  ${' '.repeat(width)}  ${i.dataDir}`;
}

/** Pure: the listing as text. */
export function formatInstances(listing: RestoreRootListing): string {
  const width = Math.max(4, ...listing.instances.map((i) => i.name.length));
  return [
    `Side instances under ${listing.root} (${listing.instances.length}):`,
    ...(listing.instances.length ? listing.instances.map((i) => instanceLine(i, width)) : ['  none']),
    ...(listing.others.length
      ? [`Not side instances this tool created (never read, stopped or removed by it) (${listing.others.length}):`, ...listing.others.map((o) => `  ${o.name}: ${o.reason}`)]
      : []),
    'recover instances remove NAME [--stop] removes one (confirmed with its name; --stop stops its server first).',
  ].join('\n');
}

export async function runInstances(io: CliIo, tokens: string[]): Promise<void> {
  const args = parseInstancesWords(tokens);
  const runtime = await createRuntime(io, { json: args.json });
  const { config, context } = runtime;
  if (args.remove === null) {
    const listing = await listRestoreRoot(context.exec, config);
    printResult(io, args.json, listing, () => formatInstances(listing));
    return;
  }
  const name = args.remove;
  // The checked handle (INSTANCE_INVALID, exit 3, for anything this tool did not create); removeSideInstance checks again.
  const instance = await openSideInstance(config, name);
  // A restore still writing into it (its work journal, its process alive) is the job's to finish or to cancel, never ours to pull away.
  const work = await readWorkJournal(instance.workDir);
  if (work && processAlive(work.pid)) {
    throw new RecoverError('INSTANCE_RUNNING', `A restore into the side instance ${name} is running (${work.jobId ? `job ${work.jobId}` : 'a CLI restore'}, pid ${work.pid}); nothing was stopped or removed.`, {
      hint: work.jobId ? `Cancel it with recover cancel ${work.jobId}, or wait for it to end; then remove the instance.` : 'Stop that recover process, or wait for it to end; then remove the instance.',
    });
  }
  if (instance.running && !args.stop) {
    throw new RecoverError('INSTANCE_RUNNING', `The side instance ${name} is running (pid ${instance.running.pid}, port ${instance.running.port}); nothing was stopped or removed.`, {
      hint: `Give --stop to stop its server first (a fast shutdown: open sessions are ended), or stop it yourself: pg_ctl -D ${instance.dataDir} stop.`,
    });
  }
  const stopping = instance.running ? `; its server (pid ${instance.running.pid}, port ${instance.running.port}) is stopped first` : '';
  io.stderr.write(`Remove the side instance ${name}: ${instance.workDir} and everything in it${stopping}.\n`);
  await confirmOrRefuse(io, { risk: 'destructive', expected: name, given: args.confirm, dryRun: false, json: args.json, subject: 'side instance' });
  await removeSideInstance(context.exec, instance, 'fast');
  const result = { removed: name, workDir: instance.workDir, stopped: instance.running !== null };
  printResult(io, args.json, result, () => `Removed the side instance ${name} (${instance.workDir})${result.stopped ? ', its server stopped first' : ''}.`);
}
