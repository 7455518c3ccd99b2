/** The recover CLI: the same operations as the bot, for break-glass use, scripting and hooks. */
import { Command } from 'commander';
import { takeBaseBackup } from '../engine/backup.js';
import { parseConnectionUrl } from '../util/connection-url.js';
import { EXIT, RecoverError } from '../errors.js';
import { runDumpBackup } from './dump-command.js';
import { runExpire } from './expire-command.js';
import { INSTANCES_USAGE, runInstances } from './instance-commands.js';
import { addControlCommands } from './job-commands.js';
import { addRegistryCommands } from './registry-commands.js';
import { createRuntime, printFailure, printResult, type CliIo } from './runtime.js';
import { auditVerify, runBot, runRunner } from './service-commands.js';
import { addSetupCommands } from './setup-command.js';
import { versionText } from './version.js';
import { walAgent, walFetch, walPush } from './wal-commands.js';

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('recover')
    .description('PostgreSQL disaster recovery: base backups, WAL archiving and point-in-time recovery from Azure Blob Storage')
    .version(versionText(), '-V, --version', 'print the version (and the commit and time the bundle was built from)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  const guarded = (json: boolean, work: () => Promise<void>): Promise<void> =>
    work().catch((error: unknown) => setExitCode(printFailure(io, json, error)));

  program
    .command('backup')
    .description('take a base backup of the source cluster into storage (its data files read on the database host, else the pg_basebackup stream; RECOVER_BACKUP_METHOD)')
    .option('--json', 'print one JSON result object')
    .action((options: { json?: boolean }) =>
      guarded(Boolean(options.json), async () => {
        const runtime = await createRuntime(io, options);
        if (!runtime.config.source.url) throw new RecoverError('CONFIG_INVALID', 'RECOVER_SOURCE_URL is not set.', { hint: 'Set it to the source cluster, e.g. postgres://postgres@/postgres?host=/var/run/postgresql' });
        await Promise.all([runtime.context.storage.backups.ensureContainer(), runtime.context.storage.wal.ensureContainer()]);
        const manifest = await takeBaseBackup(runtime.context, runtime.config.pg, parseConnectionUrl(runtime.config.source.url));
        printResult(io, Boolean(options.json), manifest, () => `Base backup ${manifest.id} stored: ${manifest.startLsn} → ${manifest.stopLsn}, timeline ${manifest.timeline}.`);
      }),
    );

  program
    .command('dump-backup')
    .description('take logical dumps (pg_dump -Fd -j N in one snapshot, and pg_dumpall --globals-only) of RECOVER_DUMP_DATABASES (default every database that takes connections) into RECOVER_CONTAINER_DUMPS')
    .option('--jobs <n>', 'pg_dump workers per database (default RECOVER_DUMP_JOBS, 2)')
    .option('--json', 'print one JSON result object')
    .action((options: { jobs?: string; json?: boolean }) => guarded(Boolean(options.json), () => runDumpBackup(io, options)));

  program
    .command('expire')
    .description('apply the retention policy now (RECOVER_RETENTION_FULL, RECOVER_RETENTION_DAYS): delete expired base backups, interrupted uploads and the WAL no kept backup needs')
    .option('--dry-run', 'show what would be deleted and what is kept and why; delete nothing')
    .option('--json', 'print one JSON result object')
    .action((options: { dryRun?: boolean; json?: boolean }) =>
      guarded(Boolean(options.json), () => runExpire(io, { dryRun: Boolean(options.dryRun), json: Boolean(options.json) }, setExitCode)),
    );

  // backups, pitr, verify, …: every /recover subcommand a runner answers, from the registry.
  addRegistryCommands(program, io, setExitCode, guarded);
  // jobs, status, cancel: what the bot answers from the control DB, for when Slack is down.
  addControlCommands(program, io, guarded);

  program
    .command('instances')
    .description('side instances under RECOVER_RESTORE_ROOT (state, port, created, size); `remove NAME` removes one, confirmed with its name')
    .usage(INSTANCES_USAGE)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[words...]')
    .action((_words: string[], _options: unknown, sub: Command) => guarded(sub.args.includes('--json'), () => runInstances(io, sub.args)));

  program
    .command('wal-push')
    .description('archive one WAL file (archive_command = \'recover wal-push %p %f\')')
    .argument('<path>', '%p')
    .argument('<name>', '%f')
    .action(async (path: string, name: string) => setExitCode(await walPush(io, path, name)));

  program
    .command('wal-fetch')
    .description('restore one WAL file without the agent (exit 1 = not archived, 126 = storage failure)')
    .argument('<name>', '%f')
    .argument('<dest>', '%p')
    .action(async (name: string, dest: string) => setExitCode(await walFetch(io, name, dest)));

  program
    .command('wal-agent')
    .description('serve archive_command/restore_command hooks over a Unix socket with a warm storage client')
    .option('--socket <path>', 'socket path (default RECOVER_WAL_AGENT_SOCKET)')
    .action(async (options: { socket?: string }) => {
      const abort = new AbortController();
      process.once('SIGTERM', () => abort.abort());
      process.once('SIGINT', () => abort.abort());
      setExitCode(await walAgent(io, options.socket, abort.signal).catch((error: unknown) => printFailure(io, false, error)));
    });

  // setup-sql: the PostgreSQL roles to create before the first start (README, "Deploying").
  addSetupCommands(program, io, guarded);

  program
    .command('runner')
    .description('the privileged runner: plans requests of its pool and runs approved jobs (needs RECOVER_CONTROL_URL)')
    .action(() => guarded(false, () => runRunner(io)));

  program
    .command('bot')
    .description('the Slack-facing bot (HTTP or Socket Mode); holds only Slack secrets and control-DB access')
    .action(() => guarded(false, () => runBot(io)));

  program
    .command('audit')
    .description('control-database audit log')
    .command('verify')
    .description('check the hash chain of the audit log; fails if any entry was changed or removed')
    .option('--json', 'print one JSON result object')
    .action((options: { json?: boolean }) => guarded(Boolean(options.json), () => auditVerify(io, Boolean(options.json))));

  return program;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // Commander's own refusals (unknown command or option, missing argument) are bad input.
    const code = (error as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code === 0 ? EXIT.ok : EXIT.badInput;
    return printFailure(io, false, error);
  }
  return exitCode;
}
