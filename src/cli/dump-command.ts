/**
 * `recover dump-backup [--jobs N] [--json]`: logical dumps of production's databases
 * (RECOVER_DUMP_DATABASES, else every one that takes connections) and its globals into the dumps
 * container (engine/dumps/take.ts). CLI (and cron) only, as `recover backup` is: taking a
 * backup is not an incident-channel action. `/recover dump <db>` restores one.
 */
import { takeDumps } from '../engine/dumps/take.js';
import type { DumpManifest } from '../engine/dumps/manifest.js';
import { RecoverError } from '../errors.js';
import { createRuntime, printResult, type CliIo } from './runtime.js';

export function formatDumps(manifests: readonly DumpManifest[]): string {
  return manifests
    .map((m) => `Dump ${m.database}/${m.stamp} stored: ${m.files.length} files, ${(m.dumpBytes / 1e6).toFixed(1)} MB (database ${(m.databaseBytes / 1e6).toFixed(1)} MB), ${m.tables.length} tables, snapshot ${m.snapshot.time}, LSN ${m.snapshot.lsn} (${m.snapshot.lsnMeaning}).`)
    .join('\n');
}

export function parseJobs(text: string | undefined): number {
  if (text === undefined) return 2;
  if (!/^\d{1,2}$/.test(text) || Number(text) < 1 || Number(text) > 16) throw new RecoverError('BAD_INPUT', `--jobs takes a number from 1 to 16, not ${text}.`, { hint: 'Example: recover dump-backup --jobs 4' });
  return Number(text);
}

export async function runDumpBackup(io: CliIo, options: { jobs?: string; json?: boolean }): Promise<void> {
  const jobs = parseJobs(options.jobs);
  const runtime = await createRuntime(io, { json: Boolean(options.json) });
  process.once('SIGINT', () => runtime.abort.abort());
  await runtime.context.storage.dumps.ensureContainer();
  const parallel = runtime.config.pg.baseTransfer?.parallel ?? 2;
  const manifests = await takeDumps(runtime.context, runtime.config, { jobs, parallel });
  printResult(io, Boolean(options.json), manifests, () => formatDumps(manifests));
}
