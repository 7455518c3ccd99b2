/**
 * `recover setup-sql [--part production|control|control-grants] [--production-role NAME] …`:
 * prints the PostgreSQL roles recover-bot needs (setup-sql.ts builds the text; README,
 * "Deploying"). It connects nowhere and reads no configuration, so it works on a laptop before
 * anything is set up: pipe a part into psql on the right server.
 */
import type { Command } from 'commander';
import { RecoverError } from '../errors.js';
import type { CliIo } from './runtime.js';
import { SETUP_DEFAULTS, SETUP_PARTS, setupSql, type SetupPart, type SetupSqlOptions } from './setup-sql.js';

/** The CLI's options: the builder's, and which part to print. */
type SetupOptions = SetupSqlOptions & { part?: string };

function parts(part: string | undefined): readonly SetupPart[] {
  if (part === undefined) return SETUP_PARTS;
  if ((SETUP_PARTS as readonly string[]).includes(part)) return [part as SetupPart];
  throw new RecoverError('BAD_INPUT', `--part must be one of ${SETUP_PARTS.join(', ')}; got ${JSON.stringify(part)}.`, { hint: 'e.g. recover setup-sql --part production | psql -d postgres' });
}

export function addSetupCommands(program: Command, io: CliIo, guarded: (json: boolean, work: () => Promise<void>) => Promise<void>): void {
  program
    .command('setup-sql')
    .description('print the PostgreSQL roles and grants for production and the control DB (no passwords; set them with \\password)')
    .option('--part <part>', `only one part: ${SETUP_PARTS.join(', ')}`)
    .option('--production-role <name>', "the runner's role on production (RECOVER_SOURCE_URL)", SETUP_DEFAULTS.productionRole)
    .option('--control-runner-role <name>', "the runners' role on the control DB's server; owns the control database", SETUP_DEFAULTS.controlRunnerRole)
    .option('--bot-role <name>', "the bot's role on the control DB's server", SETUP_DEFAULTS.botRole)
    .option('--control-database <name>', 'the control database', SETUP_DEFAULTS.controlDatabase)
    .option('--tables-owner <name>', "the role owning the application's tables and databases (rows, table, database write as it)")
    .option('--runner-address <cidr>', 'where a runner off the database host connects from (pg_hba.conf lines)', SETUP_DEFAULTS.runnerAddress)
    .action((options: SetupOptions) =>
      guarded(false, async () => {
        const { part, ...names } = options;
        io.stdout.write(setupSql(names, parts(part)));
      }),
    );
}
