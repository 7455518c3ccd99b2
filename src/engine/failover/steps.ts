/**
 * The pieces failover, switchover and failback share: wait on a condition (cancellable), promote a
 * standby and check it takes writes (its new timeline), run the application switch hook, and wait
 * until the application reconnects. Connections only through pg-client.ts.
 */
import type pg from 'pg';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { APPLICATION_NAME, withTargetClient, type TargetConnection } from '../pg-client.js';
import { failoverConfig } from './facts.js';

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new RecoverError('CANCELLED', 'The job was cancelled.'));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(new RecoverError('CANCELLED', 'The job was cancelled.'))), { once: true });
  });

/** Waits until `answers()` is false, at most `seconds`. */
export async function untilGone(ctx: Pick<EngineContext, 'signal'>, answers: () => Promise<boolean>, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (!(await answers())) return true;
    await sleep(500, ctx.signal);
  }
  return !(await answers());
}

export interface Promoted {
  promotedAt: Date;
  timeline: number;
  writesAccepted: boolean;
}

/** pg_promote(wait), then a write and the new timeline, on an open connection to the standby. */
export async function promoteAndCheck(client: pg.Client, label: string): Promise<Promoted> {
  const promoted = (await client.query('SELECT pg_promote(true, 300) AS ok')).rows[0].ok;
  if (!promoted) throw new RecoverError('COMMAND_FAILED', `pg_promote did not finish within 300 s on ${label}.`, { hint: "Look at the standby's server log; it may still be replaying. Nothing else was changed." });
  const promotedAt = new Date();
  const check = (await client.query("SELECT pg_is_in_recovery() AS rec, ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli")).rows[0];
  await client.query('BEGIN');
  await client.query('SELECT pg_current_xact_id()');
  await client.query('COMMIT');
  return { promotedAt, timeline: Number(check.tli), writesAccepted: check.rec === false };
}

/** Runs RECOVER_FAILOVER_SWITCH_COMMAND (an argv, never a shell string). */
export async function switchApplication(ctx: EngineContext, config: Pick<Config, 'failover'>): Promise<void> {
  const [file, ...args] = failoverConfig(config).switchCommand!;
  await ctx.exec.run(file!, args, { timeoutMs: 300_000, signal: ctx.signal });
}

/** The application is back once its health URL answers, or once a client connected to the new primary after the switch (`since`: the server's clock). */
export async function reconnected(ctx: EngineContext, config: Pick<Config, 'failover'>, primary: TargetConnection, timeoutSeconds: number, since: Date): Promise<{ ok: boolean; detail: string }> {
  const settings = failoverConfig(config);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'not checked yet';
  while (Date.now() < deadline) {
    if (settings.healthUrl) {
      const response = await fetch(settings.healthUrl, { signal: AbortSignal.timeout(5000) }).catch((error: Error) => error);
      if (!(response instanceof Error) && response.ok) return { ok: true, detail: `${settings.healthUrl} answered ${response.status}` };
      last = response instanceof Error ? response.message : `HTTP ${response.status}`;
    } else {
      // Sessions open before the switch (monitoring, people) say nothing about the application coming back.
      const sql = "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $1 AND backend_start >= $2";
      const clients = await withTargetClient(primary, async (c) => Number((await c.query(sql, [APPLICATION_NAME, since])).rows[0].n));
      if (clients > 0) return { ok: true, detail: `${clients} client connection(s) opened on the new primary since the switch` };
      last = 'no client connected to the new primary since the switch';
    }
    await sleep(1000, ctx.signal);
  }
  return { ok: false, detail: `not within ${timeoutSeconds} s: ${last}` };
}
