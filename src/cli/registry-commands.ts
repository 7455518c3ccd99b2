/**
 * `recover <name> …` for every runner command in the registry (commands/index.ts): the same
 * words as `/recover <name> …`, parsed by the command itself, plus the CLI-only words it
 * declares. Then the same gather and plan as the runner's planning, and run on this host.
 * Everything that can be refused is refused before anything is created: bad words (exit 2),
 * then a plan that cannot be met (exit 3), then a destructive plan not confirmed (exit 2:
 * `--confirm <production name>` or the name typed at the prompt, confirm.ts). A result the command does not count as success
 * (failed verification) exits 1 with the result printed.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { COMMANDS, type RecoverCommand } from '../../commands/index.js';
import { forSurface } from '../../commands/surface.js';
import { cliWords, withCommonCliFlags } from '../../commands/words.js';
import { EXIT, RecoverError } from '../errors.js';
import { confirmOrRefuse } from './confirm.js';
import { cliCopyRecords } from './copy-records.js';
import { formatPlan } from './format.js';
import { bigintJson, createRuntime, printFailure, printResult, type CliIo } from './runtime.js';

export async function runRegistryCommand(io: CliIo, command: RecoverCommand, tokens: string[], setExitCode: (code: number) => void): Promise<void> {
  // Curly quotes pasted into a terminal group and read as in Slack (words.ts cliWords).
  const words = cliWords(tokens);
  const { args, cli } = command.parseCli ? command.parseCli(words) : withCommonCliFlags((w) => command.parse(w), words);
  const runtime = await createRuntime(io, { json: cli.json });
  const { config, context } = runtime;
  // Copies the CLI makes are recorded on its own disk (RECOVER_STATE_DIR); a swap also reads the control DB's when configured.
  const ctx = { engine: context, config, cli, copies: cliCopyRecords(config, runtime.log) };
  const now = context.clock.now();
  const gathered = (await command.gather?.(ctx, args)) ?? {};
  // The same facts as the runner's planning; the CLI has no request, so a random id keeps generated names unique.
  const facts = { ...gathered, now, production: { name: config.productionName ?? 'production' }, requestId: randomBytes(4).toString('hex') };
  if (command.report) {
    // Read-only: a --confirm its words took is refused (nothing to confirm), never silently ignored.
    await confirmOrRefuse(io, { risk: command.risk(args), expected: facts.production.name, given: cli.confirm, dryRun: cli.dryRun, json: cli.json });
    const { result, text } = command.report(args, facts);
    const failure = command.reportVerdict?.(result) ?? null;
    if (failure) {
      if (!cli.json) io.stdout.write(`${forSurface(text, 'cli')}\n`);
      setExitCode(printFailure(io, cli.json, failure, result));
      return;
    }
    printResult(io, cli.json, result, () => text);
    return;
  }
  if (!command.plan || !command.run || !command.paramsSchema) {
    throw new RecoverError('BAD_INPUT', `\`${command.name}\` cannot run from the CLI.`, { hint: 'Use it from Slack.' });
  }
  const plan = command.plan(args, facts);
  const preview = () => command.dryRun?.(plan, facts) ?? { result: { plan }, text: formatPlan(plan) };
  // A plan that stops or writes production runs only once confirmed with the text Slack's dialog asks for (confirm.ts).
  const risk = plan.risk === 'destructive' || plan.steps.some((step) => step.destructive) || command.risk(args) === 'destructive' ? 'destructive' : plan.risk;
  const expected = command.confirmation(args, facts) ?? facts.production.name;
  const confirmation = { risk, expected, given: cli.confirm, dryRun: cli.dryRun, json: cli.json } as const;
  if (cli.dryRun) {
    await confirmOrRefuse(io, confirmation);
    const { result, text } = preview();
    printResult(io, cli.json, result, () => text);
    return;
  }
  // The plan people confirm is shown first, on stderr (stdout stays one JSON object with --json).
  if (risk === 'destructive') io.stderr.write(`${forSurface(preview().text, 'cli')}\n\n`);
  await confirmOrRefuse(io, confirmation);
  process.once('SIGINT', () => runtime.abort.abort());
  const params = command.paramsSchema.parse(plan.params ?? {});
  // In a terminal on the runner's host, whoever runs it is the approver (break-glass).
  const result = await command.run({ ...ctx, beforeDestructiveStep: async () => undefined }, params);
  const text = () => command.format?.(result) ?? JSON.stringify(result, bigintJson, 2);
  const failure = command.verdict?.(result, params) ?? null;
  if (failure) {
    if (!cli.json) io.stdout.write(`${forSurface(text(), 'cli')}\n`);
    setExitCode(printFailure(io, cli.json, failure, result));
    return;
  }
  printResult(io, cli.json, result, text);
  setExitCode(EXIT.ok);
}

const PLAN_HELP = `
  --dry-run  show the plan, change nothing
  --confirm <production name>  run a plan that changes production without the prompt (scripts);
             without it a terminal asks for the name, and anything else refuses (exit 2)`;

/** One commander subcommand per runner command; commander only routes, the command parses its own words. */
export function addRegistryCommands(program: Command, io: CliIo, setExitCode: (code: number) => void, guarded: (json: boolean, work: () => Promise<void>) => Promise<void>): void {
  for (const command of COMMANDS.filter((c) => c.home === 'runner')) {
    program
      .command(command.name)
      .description(command.description)
      .usage(command.usage.slice(command.name.length).trim() || '[--json]')
      .helpOption('-h, --help', 'show this help')
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[words...]')
      .addHelpText('after', command.cliHelp ?? `\nThe same words as /recover ${command.name} in Slack. Example: ${command.example.replace(/^\//, '')}\n  --json  print exactly one JSON object, also on failure${command.report ? '' : PLAN_HELP}`)
      .action((_words: string[], _options: unknown, sub: Command) => guarded(sub.args.includes('--json'), () => runRegistryCommand(io, command, sub.args, setExitCode)));
  }
}
