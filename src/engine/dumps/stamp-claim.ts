/**
 * A dump run's stamp, claimed before anything is uploaded. Stamps are whole UTC seconds, and
 * a failed upload's clean-up deletes everything under its `<db>/<stamp>/` (partial-upload.ts):
 * two runs in the same second (the CLI beside the schedule, or twice from cron) would upload
 * into one directory, overwrite each other's files, and the loser's clean-up would delete the
 * winner's complete dump, manifest first. So each run first claims `<db>/<stamp>/` for every
 * database it dumps (partial-upload.ts claimUploadDirectory, as base backups do); a stamp taken
 * for any database is given back and the next second tried. The claim is removed once the manifest is written (retention removes it
 * with the dump otherwise).
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { claimUploadDirectory, releaseUploadClaim, UPLOAD_CLAIM } from '../partial-upload.js';
import { dumpDirectory, dumpStamp } from './manifest.js';

/** Seconds tried before giving up (each a full second later than the one before). */
const ATTEMPTS = 10;

export const claimKey = (database: string, stamp: string) => `${dumpDirectory(database, stamp)}${UPLOAD_CLAIM}`;
const directoryOfClaim = (key: string) => key.slice(0, -UPLOAD_CLAIM.length);

/** Gives claims back (best effort: a claim left behind is a directory without a manifest, removed by retention a day later). */
export async function releaseClaims(ctx: Pick<EngineContext, 'storage' | 'log'>, keys: readonly string[]): Promise<void> {
  await Promise.all(keys.map((key) => releaseUploadClaim(ctx.storage.dumps, directoryOfClaim(key), ctx.log)));
}

/** A stamp whose directory this run now holds for every database, with the claims' keys. */
export async function claimDumpStamp(ctx: Pick<EngineContext, 'storage' | 'log' | 'clock' | 'signal'>, databases: readonly string[]): Promise<{ stamp: string; claims: string[] }> {
  const body = Buffer.from(`${JSON.stringify({ host: hostname(), pid: process.pid, at: ctx.clock.now().toISOString() })}\n`);
  let last = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const stamp = dumpStamp(ctx.clock.now());
    if (stamp === last) {
      // Still the same second: wait for the next one.
      await sleep(1000 - (ctx.clock.now().getTime() % 1000) + 5, undefined, { signal: ctx.signal });
      continue;
    }
    last = stamp;
    const claims: string[] = [];
    let taken = false;
    for (const database of databases) {
      let claimed: boolean;
      try {
        claimed = await claimUploadDirectory(ctx.storage.dumps, dumpDirectory(database, stamp), body, ctx.signal, ctx.log);
      } catch (error) {
        await releaseClaims(ctx, claims);
        throw error;
      }
      if (!claimed) {
        taken = true;
        break;
      }
      claims.push(claimKey(database, stamp));
    }
    if (!taken) return { stamp, claims };
    ctx.log.info({ stamp }, 'dump stamp taken by another run; trying the next second');
    await releaseClaims(ctx, claims);
  }
  throw new RecoverError('STORAGE_ERROR', `No free dump stamp in ${ATTEMPTS} tries: every second's directory was taken by another run. Nothing was dumped.`, {
    hint: 'Another recover dump-backup (or the schedule) is running: wait for it, then run again.',
  });
}
