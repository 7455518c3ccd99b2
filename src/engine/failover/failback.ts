/**
 * /recover failback when the old primary's data directory survived (runbook §5.3): what is read
 * before the plan (the DR primary, pg_control of the old data directory: same cluster, wal_log_hints
 * or data checksums, running or not), and the run — fence the old primary if it runs as a primary,
 * pg_rewind it against the DR primary (its own configuration files kept), start it as a standby of
 * DR through a slot and wait until it caught up; then, when this runner also holds DR's data
 * directory, the switchover that makes it the primary again (switchover.ts, the same steps).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { LOCAL_DIR_HINT, localDirMismatch, readServerIdentity } from '../local-identity.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { readControlData, type ControlData } from '../crash/controldata.js';
import { OWN_FILES, waitStreaming } from '../crash/replica.js';
import { exists, writeOwnedFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { withTargetClient } from '../pg-client.js';
import { serverRunning } from '../recovery.js';
import { step } from '../restore-to-target.js';
import { failoverConfig, labelOf } from './facts.js';
import { localServer, primaryConninfo } from './server-control.js';
import { sleep } from './steps.js';
import { readServer, sideConnection, sideUrl, type ServerFacts } from './switchover-facts.js';
import { runSwitchover, SLOT_SQL, SWITCHOVER_STEPS, type SwitchoverResult, type SwitchoverRunParams } from './switchover.js';
import { FAILBACK_DUMP_STEPS, readFailbackDumpFacts, runFailbackDump, type FailbackDumpFacts, type FailbackDumpParams, type FailbackDumpResult } from './failback-dump.js';
import type { CopyRecords } from '../database/copy-records.js';

export const FAILBACK_STEPS = [
  { kind: 'fence-old', title: 'Stop the old primary (it runs as a primary beside DR: two primaries)', destructive: true },
  { kind: 'rewind', title: 'pg_rewind the old data directory against the DR primary (its own configuration files kept)', destructive: true },
  { kind: 'attach', title: 'Start the old primary as a standby of DR (slot, primary_conninfo), wait until it streams and caught up', destructive: true },
  ...SWITCHOVER_STEPS,
  ...FAILBACK_DUMP_STEPS,
] as const;
export type FailbackStepKind = (typeof FAILBACK_STEPS)[number]['kind'];

export interface OldPrimaryFacts {
  dataDir: string | null;
  /** pg_control of the old data directory, or why it cannot be read (no directory: the dump path). */
  control: ControlData | null;
  controlError: string | null;
  running: boolean;
  /** When running: what it says (primary or standby). */
  server: ServerFacts | null;
}

export interface FailbackFacts {
  dr: ServerFacts;
  old: OldPrimaryFacts;
  /** RECOVER_STANDBY_DATA_DIR: this runner can also run the switchover that ends the failback. */
  drDataDir: string | null;
  /** RECOVER_SOURCE_URL's host:port: the server promoted again by the closing switchover. */
  sourceLabel: string;
  switchArgv: string[] | null;
  runnerHost: string;
  settings: { catchUpTimeoutSeconds: number; reconnectTimeoutSeconds: number };
  /** RECOVER_SOURCE_URL read as a server when the old data directory cannot be rewound here (the dump path's target), else null. */
  rebuilt?: ServerFacts | null;
  /** The dump path's database: its facts on DR, its oid on the rebuilt primary, the rebuilt primary's database names. */
  dump?: FailbackDumpFacts | null;
}

export async function gatherFailback(ctx: Pick<EngineContext, 'exec' | 'signal'>, config: Config, args: { db?: string | null } = {}): Promise<FailbackFacts> {
  const dr = await readServer(config, 'dr');
  const dataDir = config.source.dataDir ?? null;
  let control: ControlData | null = null;
  let controlError: string | null = null;
  if (!dataDir) controlError = 'RECOVER_SOURCE_DATA_DIR is not set on this runner';
  else if (!(await exists(join(dataDir, 'global', 'pg_control')))) controlError = `${dataDir} holds no global/pg_control`;
  else control = await readControlData(ctx, config.pg, dataDir).catch((error: Error) => ((controlError = error.message), null));
  const running = dataDir ? await serverRunning(dataDir) : false;
  const server = running && config.source.url ? await readServer(config, 'production') : null;
  const settings = failoverConfig(config);
  // The dump path (no data directory to rewind, or another cluster's): the rebuilt primary and the database on both sides.
  const rewindable = control !== null && control.systemIdentifier === dr.systemId;
  const rebuilt = !rewindable && config.source.url ? await readServer(config, 'production') : null;
  const dump = rebuilt?.reachable && dr.reachable && args.db ? await readFailbackDumpFacts(config, args.db) : null;
  return {
    rebuilt,
    dump,
    dr,
    old: { dataDir, control, controlError, running, server },
    drDataDir: settings.standbyDataDir ?? null,
    sourceLabel: labelOf(sideConnection(config, 'production')),
    switchArgv: settings.switchCommand ?? null,
    runnerHost: config.runnerHost,
    settings: { catchUpTimeoutSeconds: settings.catchUpTimeoutSeconds, reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds },
  };
}

export interface FailbackRunParams {
  dr: { label: string };
  dataDir: string;
  fence: boolean;
  slot: string;
  steps: FailbackStepKind[];
  /** The switchover that ends it (DR's data directory on this runner), or null: run /recover switchover on DR's host. */
  switchover: SwitchoverRunParams | null;
  catchUpTimeoutSeconds: number;
  requestedAt: string;
}

export interface FailbackResult {
  method: 'rewind';
  dataDir: string;
  rewind: string;
  attached: { streaming: boolean; detail: string };
  switchover: SwitchoverResult | null;
}

export async function runFailback(ctx: EngineContext, config: Config, params: FailbackRunParams | FailbackDumpParams, beforeDestructiveStep: (step: string) => Promise<void>, copies?: CopyRecords): Promise<FailbackResult | FailbackDumpResult> {
  if ('method' in params) {
    if (!copies) throw new RecoverError('CONFIG_INVALID', 'This process keeps no record of the database copies it makes, which the dump path of failback needs (the swap checks it). Nothing was done.', { hint: 'Run it through the runner (Slack) or the recover CLI.' });
    return runFailbackDump(ctx, config, params, copies, beforeDestructiveStep);
  }
  if (config.source.dataDir !== params.dataDir) throw new RecoverError('CONFIG_INVALID', `This plan rewinds ${params.dataDir}, which is not this runner's RECOVER_SOURCE_DATA_DIR. Nothing was done.`);
  const drConnection = sideConnection(config, 'dr');
  const oldConnection = sideConnection(config, 'production');
  const server = localServer(ctx, config.pg, { dataDir: params.dataDir, port: Number(oldConnection.port), socketDir: String(oldConnection.host), timeoutSeconds: config.recoveryTimeoutSeconds });
  const drUrl = sideUrl(config, 'dr');
  let finish: (detail?: string) => number;
  if (params.fence) {
    await beforeDestructiveStep('fence-old');
    finish = step(ctx, 'fence-old', FAILBACK_STEPS[0].title);
    if (await serverRunning(params.dataDir)) {
      // Checked again before pg_ctl stop -D: the server there must still be RECOVER_SOURCE_URL's.
      const problem = await withTargetClient(oldConnection, async (c) => localDirMismatch(params.dataDir, 'RECOVER_SOURCE_DATA_DIR', await readServerIdentity(c)), ctx.log);
      if (problem) throw new RecoverError('FAILOVER_REFUSED', `The server running from ${params.dataDir} was not stopped: ${problem}. Nothing was done.`, { hint: LOCAL_DIR_HINT });
    }
    const stopped = await server.stopClean();
    finish(`stopped (${stopped.state}) at ${stopped.checkpointLsn}`);
  }
  await beforeDestructiveStep('rewind');
  finish = step(ctx, 'rewind', FAILBACK_STEPS[1].title);
  if (await serverRunning(params.dataDir)) throw new RecoverError('COMMAND_FAILED', `${params.dataDir} runs again: pg_rewind needs it stopped. Nothing was rewound.`, { hint: 'Stop it (it must not run as a primary beside DR), then run /recover failback again.' });
  await withTargetClient(drConnection, (client) => client.query(SLOT_SQL, [params.slot]), ctx.log);
  // pg_rewind copies the source's configuration files too: the old primary keeps its own (port, paths, hba).
  const own = new Map<string, string>();
  for (const name of OWN_FILES) if (await exists(join(params.dataDir, name))) own.set(name, await readFile(join(params.dataDir, name), 'utf8'));
  const source = primaryConninfo({ ...drUrl, password: undefined }, 'recover_rewind');
  const rewound = await ctx.exec.run(join(config.pg.bin, 'pg_rewind'), ['--target-pgdata', params.dataDir, '--source-server', `${source} dbname='postgres'`], { asUser: config.pg.osUser, timeoutMs: 6 * 3600_000, signal: ctx.signal, allowFailure: true, ...(drUrl.password ? { env: { PGPASSWORD: drUrl.password } } : {}) });
  if (rewound.exitCode !== 0) {
    const why = rewound.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${rewound.exitCode}`;
    const wal = /could not (find|open|read).*WAL|previous WAL record/i.test(why);
    throw new RecoverError('COMMAND_FAILED', `pg_rewind failed: ${why}`, { hint: wal ? "pg_rewind reads the old primary's WAL back to the last checkpoint before the servers diverged, and it is no longer in its pg_wal (recycled). Rebuild the old primary as a new standby of DR (pg_basebackup -R), and keep more WAL (wal_keep_size) for the next failback." : 'The data directory may be half rewound: rebuild it as a new standby of DR (pg_basebackup -R).' });
  }
  const owner = await ownerFor(config.pg.osUser);
  for (const [name, text] of own) await writeOwnedFile(join(params.dataDir, name), text, owner);
  const said = `${rewound.stdout}\n${rewound.stderr}`.split('\n').map((l) => l.trim()).filter((l) => /rewind|Done|servers diverged/i.test(l)).slice(-2).join('; ');
  finish(said || 'rewound');

  await beforeDestructiveStep('attach');
  finish = step(ctx, 'attach', FAILBACK_STEPS[2].title);
  await server.startAsStandby(primaryConninfo(drUrl, 'recover_rejoined'), params.slot);
  await waitStreaming(ctx, oldConnection, params.catchUpTimeoutSeconds);
  const drLsn = await withTargetClient(drConnection, async (c) => String((await c.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn));
  const deadline = Date.now() + params.catchUpTimeoutSeconds * 1000;
  for (;;) {
    const ok = await withTargetClient(oldConnection, async (c) => Boolean((await c.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [drLsn])).rows[0].ok));
    if (ok) break;
    if (Date.now() > deadline) throw new RecoverError('COMMAND_FAILED', `The rewound old primary streams from DR but did not replay up to ${drLsn} within ${params.catchUpTimeoutSeconds} s.`, { hint: 'It is a standby (not writable); look at its log, then run /recover switchover once it caught up.' });
    await sleep(250, ctx.signal);
  }
  const attached = { streaming: true, detail: `a standby of ${params.dr.label} through slot ${params.slot}, replayed up to ${drLsn}` };
  finish(attached.detail);
  const switched = params.switchover ? await runSwitchover(ctx, config, { ...params.switchover, requestedAt: params.requestedAt }, beforeDestructiveStep) : null;
  return { method: 'rewind', dataDir: params.dataDir, rewind: said || 'rewound', attached, switchover: switched };
}
