/**
 * The seam switchover and failback drive a server through: stop it cleanly and read where its
 * last checkpoint is, start it again as it was, or start it as a standby of another server. The
 * self-managed implementation below runs pg_ctl and pg_controldata on a data directory of this
 * host; a managed provider (Azure's replica promote) would implement the same few verbs.
 */
import { appendFile, chown, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import { readControlData, type ControlData } from '../crash/controldata.js';
import type { EngineContext, PgToolConfig } from '../context.js';
import { appendConf, startCluster, writeOwnedFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { pgCtlStopArgs } from '../pg-args.js';
import type { SourceConnection } from '../../util/connection-url.js';

export interface ServerControl {
  /** Where it is, as people read it. */
  where: string;
  /** A clean (fast) shutdown: its walsenders send everything, the shutdown checkpoint last. Returns pg_control after it. */
  stopClean(): Promise<ControlData>;
  /** Starts it again as it was (a roll-back). */
  start(): Promise<void>;
  /** Starts it as a standby streaming from `conninfo` through the replication slot `slot`. */
  startAsStandby(conninfo: string, slot: string): Promise<void>;
  control(): Promise<ControlData>;
}

export const REJOIN_HEADER = 'recover-bot: a standby of the new primary (switchover/failback)';

/** libpq's conninfo quoting: single quotes, backslash before ' and \ (pure). */
const conninfoValue = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** primary_conninfo reaching `to` (the password, if any, goes into the standby's own configuration, as pg_basebackup -R does) (pure). */
export function primaryConninfo(to: Pick<SourceConnection, 'host' | 'port' | 'user' | 'password'>, applicationName: string): string {
  const parts: [string, string][] = [['host', to.host], ['port', String(to.port)], ['user', to.user], ...(to.password ? [['password', to.password] as [string, string]] : []), ['application_name', applicationName]];
  return parts.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(' ');
}

/** A server whose data directory is on this host (RECOVER_SOURCE_DATA_DIR / RECOVER_STANDBY_DATA_DIR). */
export function localServer(ctx: EngineContext, tools: PgToolConfig, server: { dataDir: string; port: number; socketDir: string; configFile?: string; timeoutSeconds: number }): ServerControl {
  const logFile = `${server.dataDir}.recover-server.log`;
  const start = async () => {
    const owner = await ownerFor(tools.osUser);
    // pg_ctl (as postgres) appends to it; its directory may belong to root.
    await appendFile(logFile, '');
    if (owner) await chown(logFile, owner.uid, owner.gid);
    await startCluster(ctx.exec, tools.bin, tools.osUser, { dataDir: server.dataDir, port: server.port, socketDir: server.socketDir, logFile, ...(server.configFile ? { configFile: server.configFile } : {}) }, server.timeoutSeconds, ctx.signal);
  };
  const control = () => readControlData(ctx, tools, server.dataDir);
  return {
    where: server.dataDir,
    control,
    start,
    async stopClean() {
      const [file, args] = pgCtlStopArgs(tools.bin, server.dataDir, 'fast', server.timeoutSeconds);
      await ctx.exec.run(file, args, { asUser: tools.osUser, timeoutMs: (server.timeoutSeconds + 10) * 1000, signal: ctx.signal });
      const after = await control();
      if (after.state !== 'shut down') throw new RecoverError('COMMAND_FAILED', `${server.dataDir} is "${after.state}" after pg_ctl stop -m fast, not "shut down": its last WAL may not have reached the standby.`, { hint: 'Look at its server log; start it again as a primary (pg_ctl start) and retry.' });
      return after;
    },
    async startAsStandby(conninfo, slot) {
      const owner = await ownerFor(tools.osUser);
      await rm(join(server.dataDir, 'recovery.signal'), { force: true });
      await writeOwnedFile(join(server.dataDir, 'standby.signal'), '', owner);
      await appendConf(server.dataDir, { primary_conninfo: conninfo, primary_slot_name: slot, recovery_target_timeline: 'latest' }, REJOIN_HEADER);
      await start();
    },
  };
}
