/**
 * The PostgreSQL roles recover-bot needs, as SQL text for people to read and run
 * (`recover setup-sql`, README "Deploying"). Pure: nothing here connects anywhere. Never a
 * superuser, and never a password: each role's is set afterwards with psql's `\password`,
 * which sends only a hash (a password in a script ends up in shell history and server logs).
 *
 * Three parts, for two servers and two moments:
 *  - production: the runner's role on the production cluster (what each command needs);
 *  - control: the control DB's roles and database, before the first start;
 *  - control-grants: the bot's table privileges, run in the control database after the first
 *    runner start has created the tables (its migrations), and again after an upgrade adds one.
 * The runner's control-DB role owns the control database and applies migrations; the bot's
 * may read every table and write only the tables listed in BOT_WRITES, so it can neither change
 * the schema, nor disable the audit log's triggers, nor record a database copy.
 */
import { MIGRATIONS } from '../control/migrations.js';
import { quoteIdent } from '../engine/sql.js';
import { RecoverError } from '../errors.js';

export const SETUP_PARTS = ['production', 'control', 'control-grants'] as const;
export type SetupPart = (typeof SETUP_PARTS)[number];

export interface SetupSqlOptions {
  /** The runner's role on production (RECOVER_SOURCE_URL's user). */
  productionRole: string;
  /** The runner's role on the control DB's server (RECOVER_CONTROL_URL of runners): owns the control database. */
  controlRunnerRole: string;
  /** The bot's role on the control DB's server (RECOVER_CONTROL_URL of the bot). */
  botRole: string;
  controlDatabase: string;
  /** The role owning the application's tables and databases, granted to the runner for rows, table and database. */
  tablesOwner?: string;
  /** Where streamed backups connect from, for the pg_hba.conf lines (a comment). */
  runnerAddress: string;
}

export const SETUP_DEFAULTS: SetupSqlOptions = {
  productionRole: 'recover_runner',
  controlRunnerRole: 'recover_runner',
  botRole: 'recover_bot',
  controlDatabase: 'recover',
  runnerAddress: '10.0.0.5/32',
};

/**
 * What the bot writes in the control DB, and nothing else (it reads every table). Each entry is
 * a code path of src/slack: filing requests, votes, the approval's job, cancels, replay
 * protection, posting each message once.
 */
export const BOT_WRITES: Readonly<Record<string, readonly string[]>> = {
  requests: ['INSERT', 'UPDATE'], // createRequest, slack refs, status on approval/reject
  approvals: ['INSERT', 'UPDATE'], // recordApproval (changing one's mind replaces the row)
  jobs: ['INSERT', 'UPDATE'], // enqueueJob on a complete approval; requestCancel
  events: ['INSERT'], // job.cancelled for a job cancelled before it started
  audit_log: ['INSERT'], // votes, approval requests, cancels (hash-chained; UPDATE/DELETE refused by trigger)
  seen_slack_requests: ['INSERT', 'DELETE'], // replay protection, pruned as it goes
  slack_posts: ['INSERT', 'UPDATE'], // each message recorded before it is posted
};

/** The bigserial sequences behind the bot's inserts (table → its sequence). */
export const BOT_SEQUENCES: Readonly<Record<string, string>> = { events: 'events_id_seq', audit_log: 'audit_log_seq_seq' };

/** Every table the migrations create, in order, after schema_migrations. */
export function controlTables(migrations: readonly { sql: string }[] = MIGRATIONS): string[] {
  const created = migrations.flatMap((m) => [...m.sql.matchAll(/^CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)/gim)].map((match) => match[1]!));
  return ['schema_migrations', ...created];
}

/** A role name as people type it in `\password` (psql quotes it itself when needed). */
const psqlName = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdent(name));

function productionPart(o: SetupSqlOptions): string[] {
  const r = quoteIdent(o.productionRole);
  const owner = o.tablesOwner ? quoteIdent(o.tablesOwner) : null;
  return [
    `-- 1. On production, as a superuser (psql -d postgres). Then: \\password ${psqlName(o.productionRole)}`,
    `--    The runner's role (RECOVER_SOURCE_URL). Not a superuser: every right below is named for what uses it.`,
    `CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS CREATEDB REPLICATION;`,
    `-- recover backup, on the database host (files): PostgreSQL's low-level backup API, and ending the backup's last WAL segment now.`,
    `GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO ${r};`,
    `GRANT EXECUTE ON FUNCTION pg_backup_stop(boolean) TO ${r};`,
    `GRANT EXECUTE ON FUNCTION pg_switch_wal() TO ${r};`,
    `-- data_directory, config_file, hba_file (the backup's layout record; in-place restores start production with its config_file).`,
    `GRANT pg_read_all_settings TO ${r};`,
    `-- Every database's size in the backup's record, even where CONNECT was revoked.`,
    `GRANT pg_read_all_stats TO ${r};`,
    `-- verify (exact row counts of every table), rows/table previews, locate: read every table.`,
    `GRANT pg_read_all_data TO ${r};`,
    `-- verify's index check, in each database where you installed amcheck (its functions are not PUBLIC):`,
    `--   GRANT EXECUTE ON FUNCTION bt_index_check(regclass, boolean) TO ${r};`,
    `-- pitr --to in-place: reload once archiving is resumed and replay settings are removed.`,
    `GRANT EXECUTE ON FUNCTION pg_reload_conf() TO ${r};`,
    `-- database --swap: end the sessions of both databases (never a superuser's); CREATEDB above makes the copy and renames.`,
    `GRANT pg_signal_backend TO ${r};`,
    `-- recover backup elsewhere (streamed with pg_basebackup): REPLICATION above, and in pg_hba.conf before any broader line:`,
    `--   host replication ${o.productionRole} ${o.runnerAddress} scram-sha-256`,
    `--   host all         ${o.productionRole} ${o.runnerAddress} scram-sha-256`,
    `--   (a runner on the database host connects over the Unix socket: local all ${o.productionRole} scram-sha-256)`,
    `-- rows, table, database write as the owner of the application's tables and databases: membership in that role`,
    `-- (rows: INSERT and setval of its sequences; table: CREATE TABLE beside it, LOCK, DELETE, UPDATE; database: CREATE DATABASE`,
    `-- … OWNER, ALTER DATABASE … RENAME / ALLOW_CONNECTIONS, which only the owner may do).`,
    ...(owner
      ? [`GRANT ${owner} TO ${r};`]
      : [
          `-- Name it with --tables-owner, or grant it yourself:  GRANT app_owner TO ${r};`,
          `-- Without it, per table: GRANT SELECT, INSERT, UPDATE, DELETE ON schema.table TO ${r}; GRANT UPDATE ON its sequences;`,
          `-- GRANT CREATE ON SCHEMA schema (table --mode as-new). database needs the membership (ownership cannot be granted per object).`,
        ]),
  ];
}

function controlPart(o: SetupSqlOptions): string[] {
  const [runner, bot, db] = [quoteIdent(o.controlRunnerRole), quoteIdent(o.botRole), quoteIdent(o.controlDatabase)];
  return [
    `-- 2. On the control DB's server (never production's), as a superuser, before the first start.`,
    `--    Then: \\password ${psqlName(o.controlRunnerRole)} and \\password ${psqlName(o.botRole)}`,
    `CREATE ROLE ${runner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;`,
    `CREATE ROLE ${bot} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;`,
    `-- The runner's role owns it (and so its public schema): runners apply the migrations at start.`,
    `CREATE DATABASE ${db} OWNER ${runner};`,
    `REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`,
    `GRANT CONNECT ON DATABASE ${db} TO ${bot};`,
  ];
}

function controlGrantsPart(o: SetupSqlOptions): string[] {
  const bot = quoteIdent(o.botRole);
  const tables = controlTables();
  const writes = Object.entries(BOT_WRITES).map(([table, privileges]) => `GRANT ${privileges.join(', ')} ON ${quoteIdent(table)} TO ${bot};`);
  const sequences = Object.values(BOT_SEQUENCES).map((sequence) => `GRANT USAGE ON SEQUENCE ${quoteIdent(sequence)} TO ${bot};`);
  return [
    `-- 3. In the control database (psql -d ${psqlName(o.controlDatabase)}, as a superuser or ${o.controlRunnerRole}), after the first`,
    `--    \`recover runner\` start created its tables; again after an upgrade. The bot reads every table, writes only these.`,
    `GRANT USAGE ON SCHEMA public TO ${bot};`,
    `GRANT SELECT ON ${tables.map(quoteIdent).join(', ')} TO ${bot};`,
    ...writes,
    ...sequences,
  ];
}

const PARTS: Record<SetupPart, (o: SetupSqlOptions) => string[]> = { production: productionPart, control: controlPart, 'control-grants': controlGrantsPart };

/**
 * Names also appear in comments and pg_hba.conf lines, where quoting does not protect: a
 * newline would end the comment. So only plain names (quoted anyway in SQL) and addresses.
 */
const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
const ADDRESS = /^[A-Za-z0-9.:-]{1,253}(\/\d{1,3})?$/;

function checked(o: SetupSqlOptions): SetupSqlOptions {
  const names: Array<[string, string | undefined]> = [
    ['--production-role', o.productionRole], ['--control-runner-role', o.controlRunnerRole], ['--bot-role', o.botRole],
    ['--control-database', o.controlDatabase], ['--tables-owner', o.tablesOwner],
  ];
  for (const [option, value] of names) {
    if (value !== undefined && !ROLE_NAME.test(value)) {
      throw new RecoverError('BAD_INPUT', `${option} must be a plain name (a letter or _, then letters, digits, _ $ -; at most 63).`, { hint: `e.g. ${option} recover_${option === '--bot-role' ? 'bot' : 'runner'}` });
    }
  }
  if (!ADDRESS.test(o.runnerAddress)) throw new RecoverError('BAD_INPUT', '--runner-address must be an address with its mask, e.g. 10.0.0.5/32.');
  if (o.botRole === o.controlRunnerRole) throw new RecoverError('BAD_INPUT', 'The bot and the runner need different control-DB roles (--bot-role, --control-runner-role).');
  return o;
}

/** The SQL of the parts asked for (all three by default), each a block of its own. */
export function setupSql(options: Partial<SetupSqlOptions> = {}, parts: readonly SetupPart[] = SETUP_PARTS): string {
  const o = checked({ ...SETUP_DEFAULTS, ...options });
  const header = [
    '-- recover-bot: PostgreSQL roles (printed by `recover setup-sql`; README, "Deploying").',
    '-- No passwords here: set each one with psql\'s \\password ROLE, which sends only a hash.',
  ];
  return [header.join('\n'), ...parts.map((part) => PARTS[part](o).join('\n'))].join('\n\n') + '\n';
}
