/** The recover CLI: the same operations as the bot, for break-glass use, scripting and hooks. */
import { Command, Option } from 'commander';
import { takeBaseBackup } from '../engine/backup.js';
import { parseConnectionUrl } from '../engine/context.js';
import { planPitr, runPitr } from '../engine/pitr.js';
import { parseTarget } from '../engine/targets.js';
import { RecoverError } from '../errors.js';
import { readCatalog } from '../storage/catalog.js';
import { coverage, rpoExposureSeconds } from '../storage/coverage.js';
import { formatBackups, formatPitr, formatSelection } from './format.js';
import { createRuntime, printFailure, printResult, type CliIo } from './runtime.js';
import { auditVerify, runBot, runRunner } from './service-commands.js';
import { walAgent, walFetch, walPush } from './wal-commands.js';

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('recover')
    .description('PostgreSQL disaster recovery: base backups, WAL archiving and point-in-time recovery from Azure Blob Storage')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  const guarded = (json: boolean, work: () => Promise<void>) =>
    work().catch((error: unknown) => setExitCode(printFailure(io, json, error)));

  program
    .command('backup')
    .description('take a base backup of the source cluster (pg_basebackup streamed into storage)')
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
    .command('backups')
    .description('list base backups, WAL coverage per timeline, gaps and RPO exposure')
    .option('--json', 'print one JSON result object')
    .action((options: { json?: boolean }) =>
      guarded(Boolean(options.json), async () => {
        const runtime = await createRuntime(io, options);
        const now = runtime.context.clock.now();
        const catalog = await readCatalog(runtime.context.storage, now);
        const size = catalog.backups.at(-1)?.walSegmentSize ?? 16 * 1024 * 1024;
        const timelines = coverage(catalog, size);
        const rpo = rpoExposureSeconds(catalog, now);
        const result = { backups: catalog.backups, unreadableBackups: catalog.unreadableBackups, timelines, rpoExposureSeconds: rpo };
        printResult(io, Boolean(options.json), result, () => formatBackups(catalog.backups, timelines, rpo, catalog.unreadableBackups));
      }),
    );

  program
    .command('pitr')
    .description('point-in-time recovery to a side instance (default) or in place')
    .option('--at <time>', 'recover to this time; an explicit offset is required, e.g. 2025-01-15T14:29:59+00:00')
    .option('--xid <xid>', 'recover to this transaction id')
    .option('--lsn <lsn>', 'recover to this WAL position, e.g. 0/3000028')
    .option('--name <restore-point>', 'recover to a named restore point')
    .option('--immediate', 'stop as soon as the base backup is consistent')
    .option('--latest', 'replay all archived WAL (no target)')
    .option('--exclusive', 'stop just before the target instead of just after it')
    .option('--inclusive', 'stop just after the target (default)')
    .addOption(new Option('--action <action>', 'what to do at the target').choices(['promote', 'pause']).default('promote'))
    .option('--backup <id>', 'use this base backup instead of the newest that fits')
    .addOption(new Option('--to <where>', 'restore to a side instance or over production').choices(['side', 'in-place']).default('side'))
    .option('--instance <name>', 'side instance name (directory under the restore root)')
    .option('--port <port>', 'side instance port (default: a free port)', (value) => Number(value))
    .option('--db <name...>', 'databases to verify (default: all)')
    .option('--dry-run', 'show what would be restored, change nothing')
    .option('--json', 'print one JSON result object')
    .action((options: Record<string, unknown>) =>
      guarded(Boolean(options.json), async () => {
        if (options.inclusive && options.exclusive) throw new RecoverError('TARGET_CONFLICT', 'Give --inclusive or --exclusive, not both.');
        const target = parseTarget(options);
        const runtime = await createRuntime(io, options);
        process.once('SIGINT', () => runtime.abort.abort());
        const backupId = options.backup as string | undefined;
        if (options.dryRun) {
          const selection = await planPitr(runtime.context, { target, ...(backupId ? { backupId } : {}) });
          printResult(io, Boolean(options.json), selection, () => formatSelection(selection));
          return;
        }
        const result = await runPitr(runtime.context, runtime.config, {
          target,
          inclusive: !options.exclusive,
          action: options.action as 'promote' | 'pause',
          to: options.to as 'side' | 'in-place',
          ...(backupId ? { backupId } : {}),
          ...(options.instance ? { instanceName: options.instance as string } : {}),
          ...(options.port ? { port: options.port as number } : {}),
          ...(options.db ? { databases: options.db as string[] } : {}),
        });
        printResult(io, Boolean(options.json), result, () => formatPitr(result));
      }),
    );

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
    const code = (error as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : printFailure(io, false, error);
  }
  return exitCode;
}
