/**
 * The /recover subcommands. Adding one = one file + one line here: the runner, the bot (help,
 * planning, summaries) and the CLI (`recover <name> …`) all read this list.
 */
import { backups } from './backups.js';
import { cancel } from './cancel.js';
import { crash } from './crash/index.js';
import { database } from './database.js';
import { disk } from './disk/index.js';
import { drill } from './drill.js';
import { dump } from './dump/index.js';
import { dumpall } from './dumpall/index.js';
import { failback } from './failback/index.js';
import { failover } from './failover/index.js';
import { georestore } from './georestore/index.js';
import { switchover } from './switchover/index.js';
import { help } from './help.js';
import { jobs } from './jobs.js';
import { locate } from './locate.js';
import { pitr } from './pitr.js';
import { preflight } from './preflight/index.js';
import { rows } from './rows.js';
import { scenarios } from './scenarios/index.js';
import { status } from './status.js';
import { table } from './table.js';
import type { RecoverCommand } from './types.js';
import { verify } from './verify.js';

export const COMMANDS: readonly RecoverCommand[] = [help, pitr, backups, verify, locate, rows, table, database, dump, dumpall, crash, jobs, status, cancel, preflight, disk, scenarios, failover, switchover, failback, georestore, drill];

export function findCommand(name: string): RecoverCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

export type { BaseFacts, PlanFacts, RecoverCommand, SummaryFacts } from './types.js';
export { tokenize } from './words.js';
