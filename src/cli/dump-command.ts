/**
 * `recover dump-backup [--jobs N] [--json]`: logical dumps of production's databases
 * (RECOVER_DUMP_DATABASES, else every one that takes connections) and its globals into the dumps
 * container (engine/dumps/take.ts), then dump retention as the schedule applies it
 * (runner/dump-retention.ts): a host that takes dumps from cron, without RECOVER_DUMP_SCHEDULE,
 * would otherwise keep every dump and every failed upload's leftovers. CLI (and cron) only, as
 * `recover backup` is: taking a backup is not an incident-channel action. `/recover dump <db>`
 * restores one.
 */
import { hostname, userInfo } from 'node:os';
import { takeDumps } from '../engine/dumps/take.js';
import type { DumpManifest } from '../engine/dumps/manifest.js';
import { createPool } from '../engine/pg-client.js';
import { RecoverError } from '../errors.js';
import { applyDumpRetention, sharedDumpsContainer, type DumpRetentionOutcome } from '../runner/dump-retention.js';
import { DEFAULT_DUMP_JOBS } from '../runner/scheduled-dump.js';
import { createRuntime, printResult, type CliIo } from './runtime.js';

export function formatDumps(manifests: readonly DumpManifest[]): string {
  return manifests
    .map((m) => `Dump ${m.database}/${m.stamp} stored: ${m.files.length} files, ${(m.dumpBytes / 1e6).toFixed(1)} MB (database ${(m.databaseBytes / 1e6).toFixed(1)} MB), ${m.tables.length} tables, snapshot ${m.snapshot.time}, LSN ${m.snapshot.lsn} (${m.snapshot.lsnMeaning}).`)
    .join('\n');
}

export function formatRetention(retention: DumpRetentionOutcome): string {
  if (typeof retention === 'string') return `Dump retention ${retention}.`;
  return `Dump retention (${retention.policy}): ${retention.dumpsDeleted.length} dump(s) expired${retention.dumpsDeleted.length ? ` (${retention.dumpsDeleted.join(', ')})` : ''}, ${retention.leftoversDeleted.length} failed upload(s) removed${retention.leftoversDeleted.length ? ` (${retention.leftoversDeleted.join(', ')})` : ''}.`;
}

export function parseJobs(text: string | undefined, configured = DEFAULT_DUMP_JOBS): number {
  if (text === undefined) return configured;
  if (!/^\d{1,2}$/.test(text) || Number(text) < 1 || Number(text) > 16) throw new RecoverError('BAD_INPUT', `--jobs takes a number from 1 to 16, not ${text}.`, { hint: 'Example: recover dump-backup --jobs 4' });
  return Number(text);
}

export async function runDumpBackup(io: CliIo, options: { jobs?: string; json?: boolean }): Promise<void> {
  const runtime = await createRuntime(io, { json: Boolean(options.json) });
  const jobs = parseJobs(options.jobs, runtime.config.dumpJobs);
  process.once('SIGINT', () => runtime.abort.abort());
  await runtime.context.storage.dumps.ensureContainer();
  const parallel = runtime.config.pg.baseTransfer?.parallel ?? 2;
  const manifests = await takeDumps(runtime.context, runtime.config, { jobs, parallel });
  const { config } = runtime;
  const shared = sharedDumpsContainer(config.storage.containers);
  let retention: DumpRetentionOutcome;
  if (shared) retention = `skipped: it only runs in a dumps container of its own, and RECOVER_CONTAINER_DUMPS is ${shared}`;
  else {
    const control = config.controlUrl ? createPool({ connectionString: config.controlUrl, max: 1, connectionTimeoutMillis: 10_000 }, runtime.log) : null;
    try {
      const taken = manifests.map((m) => `${m.database}/${m.stamp}`);
      retention = await applyDumpRetention(runtime.context, config, control, { actor: `cli:${userInfo().username}@${hostname()}`, details: { command: 'dump-backup' } }, taken);
    } finally {
      await control?.end().catch(() => undefined);
    }
  }
  printResult(io, Boolean(options.json), { dumps: manifests, retention }, () => `${formatDumps(manifests)}\n${formatRetention(retention)}`);
}
