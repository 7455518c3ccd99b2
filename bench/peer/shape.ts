/**
 * One shape of bench/peer.ts (and of bench/scale.ts, which runs it at growing sizes): a source
 * cluster archiving through both tools, base backups by both, then restores by ours
 * (`recover pitr`), pgBackRest and the cp floor, each hashed against production. See
 * bench/peer.ts for what is timed and how; `options.midTarget` adds a second recovery target
 * part-way through the WAL (an LSN, its own production fingerprint) so one load gives two
 * sizes of WAL, and every restore's phases are split (./phases.ts).
 */
import { execa } from 'execa';
import { availableParallelism } from 'node:os';
import { createWriteStream } from 'node:fs';
import { chown, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { appendConf, clusterClient, freePort, makeOwnedDir, startCluster, stopCluster, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { confQuote, shellQuote } from '../../src/engine/pg-settings.js';
import { runPitr } from '../../src/engine/pitr.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { parseLsn } from '../../src/catalog/segments.js';
import { decodeWal } from '../../src/wal/compression.js';
import { clusterFingerprint, fingerprintDiff } from './hash.js';
import { defaultBaseParallel } from '../../src/config.js';
import { startPgBackRest, type PgBackRest } from './pgbackrest.js';
import { rawUploadSeconds, type StoredBackup } from './raw-upload.js';
import { oursPhases, pgbrPhases, promoteSeconds, promoteSecondsUntil, stepSeconds, type Phases } from './phases.js';

export interface ShapeSpec {
  scale: number;
  segments: number;
  /** pgbench -i before the base backups (base) or after them (wal). */
  initBeforeBase: boolean;
  loadSeconds: number;
  /** With `options.midTarget`: the segments after the base at which the mid target is taken. */
  midSegments?: number;
}

export type Tool = 'ours' | 'pgbr' | 'cp';
export type TargetName = 'end' | 'mid';

export interface ShapeOptions {
  rounds: number;
  pgbrCompress: string;
  tools: readonly Tool[];
  /** Also restore to an LSN once `spec.midSegments` segments were written after the base. */
  midTarget?: boolean;
}

const BIN = '/usr/lib/postgresql/15/bin';
export const log = (text: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const seconds = (since: number) => (performance.now() - since) / 1000;
export const median = (values: number[]) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
export const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

interface CliRun {
  wallS: number;
  /** Spawn to the "✓ replay-wal" progress line (pitr only). */
  promotedS: number | null;
  /** When that line came (epoch ms): the end of ours' promote phase (phases.ts). */
  promotedAtMs: number | null;
  maxRssKib: number;
  result: Record<string, unknown>;
  /** The CLI's steps and their seconds. */
  steps: string;
  stepSeconds: Record<string, number>;
  /** Spawn to the job's start (planning included). */
  startedS: number | null;
}

/** The recover CLI as an operator runs it, with a preload that records its peak RSS. */
async function recoverCli(sandbox: Sandbox, label: string, cliArgs: string[]): Promise<CliRun> {
  const rssFile = join(sandbox.root, `max-rss-${label}`);
  const began = performance.now();
  const child = execa(process.execPath, ['--import', pathToFileURL(resolve('bench/peer/max-rss.mjs')).href, resolve('bin/recover.mjs'), ...cliArgs], {
    env: sandbox.cliEnv({ PEER_MAX_RSS_FILE: rssFile }),
    reject: false,
    buffer: { stdout: true, stderr: false },
    timeout: 3 * 3600_000,
  });
  let promotedS: number | null = null;
  let promotedAtMs: number | null = null;
  let startedS: number | null = null;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    if (startedS === null && /▶/.test(stderr)) startedS = seconds(began);
    if (promotedS === null && /✓ replay-wal/.test(stderr)) {
      promotedS = seconds(began);
      promotedAtMs = Date.now();
    }
  });
  const done = await child;
  const wallS = seconds(began);
  let parsed: { ok?: boolean; result?: Record<string, unknown> } = {};
  try {
    parsed = JSON.parse(String(done.stdout).trim().split('\n').at(-1) ?? '{}');
  } catch {
    // reported below
  }
  if (done.exitCode !== 0 || !parsed.ok || !parsed.result) {
    throw new Error(`recover ${cliArgs.join(' ')} exited ${done.exitCode}: ${String(done.stdout).slice(0, 2000)}\n${stderr.slice(-2000)}`);
  }
  const maxRssKib = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'));
  // Where the time went, from the CLI's own progress lines: "✓ step (12.3 s)".
  const steps = [...stderr.matchAll(/✓ ([\w-]+) \(([\d.]+) s\)/g)].map((match) => `${match[1]} ${match[2]}`);
  const started = startedS as number | null;
  const stepsText = `${started === null ? '' : `spawn to job start (planning included) ${started.toFixed(2)}, `}${steps.join(', ')}`;
  return { wallS, promotedS, promotedAtMs: promotedAtMs as number | null, maxRssKib, result: parsed.result, steps: stepsText, stepSeconds: stepSeconds(stderr), startedS: started };
}

interface Restored {
  seconds: number;
  phases: Phases;
  detail: string;
  cluster: Pick<ClusterHandle, 'socketDir' | 'port' | 'dataDir'>;
  /** Removed after hashing. */
  dir: string;
}

export interface ShapeResult {
  times: Record<'ours' | 'pgbr' | 'cp', number[]>;
  oursWall: number[];
  oursRssKib: number[];
  /** One backup per round, the order alternating. */
  backupOursS: number[];
  backupPgbrS: number[];
  backupRssKib: number;
  /** Our last backup's stored bytes uploaded raw (bench/peer/raw-upload.ts); null: no backup of ours. */
  rawUpload: { seconds: number; bytes: number; rawBytes: number } | null;
  hashIdentical: boolean;
  /** Every restore, in the order run. */
  restores: RestoreRecord[];
  /** The database's bytes at the base backups; WAL bytes from the base backups' start to each target. */
  baseBytes: number;
  walBytes: Partial<Record<TargetName, number>>;
}

export interface RestoreRecord {
  tool: Tool;
  round: number;
  target: TargetName;
  /** To promoted (ours: the "✓ replay-wal" line; verification apart, in phases). */
  seconds: number;
  phases: Phases;
}

async function pollPromoted(cluster: Pick<ClusterHandle, 'socketDir' | 'port'>): Promise<void> {
  const client = clusterClient(cluster);
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
      if (!rows[0]!.recovering) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function runShape(name: string, spec: ShapeSpec, options: ShapeOptions): Promise<ShapeResult> {
  const { rounds: ROUNDS, pgbrCompress: PGBR_COMPRESS } = options;
  log(`=== shape ${name}: pgbench scale ${spec.scale}, ≥ ${spec.segments} WAL segments after the base, ${ROUNDS} rounds`);
  const sandbox = await startSandbox({ productionSettings: { max_wal_size: '4GB', checkpoint_timeout: '30min', shared_buffers: '256MB' } });
  let pgbr: PgBackRest | undefined;
  try {
    const owner = await ownerFor('postgres');
    pgbr = await startPgBackRest(sandbox.exec, sandbox.root, owner, sandbox.production, PGBR_COMPRESS);
    const [{ cmd: oursArchive }] = (await sandbox.query<{ cmd: string }>(`SELECT current_setting('archive_command') AS cmd`)) as [{ cmd: string }];
    const setArchive = async (command: string) => {
      await sandbox.query(`ALTER SYSTEM SET archive_command = ${confQuote(command)}`);
      await sandbox.query('SELECT pg_reload_conf()');
    };
    const bothArchive = `${pgbr.archivePushCommand} && ${oursArchive}`;
    await setArchive(bothArchive);
    await pgbr.run(pgbr.sourceConfig, ['stanza-create']);
    await pgbr.run(pgbr.sourceConfig, ['check']);

    const pgbench = join(BIN, 'pgbench');
    const connArgs = ['-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres'];
    const archiveAll = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await sandbox.switchAndArchive();
        } catch (error) {
          if (attempt >= 30) throw error;
          log('  archiving is behind; waiting …');
        }
      }
    };
    const init = async () => {
      log(`pgbench -i -s ${spec.scale} …`);
      const began = performance.now();
      await sandbox.exec.run(pgbench, ['-i', '-s', String(spec.scale), '-q', ...connArgs], { timeoutMs: 3 * 3600_000 });
      await sandbox.query('CHECKPOINT');
      log(`  initialised in ${seconds(began).toFixed(1)} s`);
    };
    if (spec.initBeforeBase) {
      // WAL before the base backups is needed by neither restore: do not make both tools archive it.
      await setArchive('true');
      await init();
      await setArchive(bothArchive);
    }
    await archiveAll();
    await sandbox.exec.run('sync', []);

    // As many backups of the same state as restore rounds, the order alternating like the
    // restores': the first backup after the load reads a colder cache, whichever tool takes it.
    log(`base backups of the same state, ${ROUNDS} rounds: ours (recover backup) and pgBackRest (backup --type=full, process-max 2)`);
    const backups = { ours: [] as number[], pgbr: [] as number[], rssKib: 0 };
    let lastOurs: StoredBackup | null = null;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const tool of round % 2 === 1 ? (['ours', 'pgbr'] as const) : (['pgbr', 'ours'] as const)) {
        if (tool === 'ours') {
          const ours = await recoverCli(sandbox, `backup-${round}`, ['backup', '--json']);
          backups.ours.push(ours.wallS);
          backups.rssKib = Math.max(backups.rssKib, ours.maxRssKib);
          lastOurs = ours.result as unknown as StoredBackup;
          log(`  round ${round} ours: ${ours.wallS.toFixed(2)} s, peak RSS ${(ours.maxRssKib / 1024).toFixed(0)} MiB (${ours.steps})`);
        } else {
          const pgbrBegan = performance.now();
          await pgbr.run(pgbr.sourceConfig, ['backup', '--type=full']);
          backups.pgbr.push(seconds(pgbrBegan));
          log(`  round ${round} pgBackRest: ${backups.pgbr.at(-1)!.toFixed(2)} s`);
        }
      }
    }

    // The same stored bytes uploaded raw, as many parts at once as `recover backup` moves (its default).
    const raw = lastOurs ? await rawUploadSeconds(sandbox, lastOurs, defaultBaseParallel(availableParallelism()), log) : null;
    if (raw) {
      const mbs = (bytes: number, seconds: number) => (bytes / seconds / 1e6).toFixed(0);
      log(`  raw upload of our last backup's ${(raw.bytes / 2 ** 20).toFixed(0)} MiB stored: ${raw.seconds.toFixed(2)} s (${mbs(raw.bytes, raw.seconds)} MB/s); our backups moved the database's ${(raw.rawBytes / 2 ** 20).toFixed(0)} MiB at ${mbs(raw.rawBytes, median(backups.ours))} MB/s, storing ${mbs(raw.bytes, median(backups.ours))} MB/s`);
    }

    const [{ lsn: startLsn, bytes: baseBytes }] = (await sandbox.query<{ lsn: string; bytes: string }>(
      'SELECT pg_current_wal_lsn()::text AS lsn, (SELECT sum(pg_database_size(datname)) FROM pg_database)::text AS bytes',
    )) as [{ lsn: string; bytes: string }];
    if (!spec.initBeforeBase) await init();
    const walSince = async () => {
      const [row] = (await sandbox.query<{ lsn: string; bytes: string }>(`SELECT pg_current_wal_lsn()::text AS lsn, (pg_current_wal_lsn() - $1::pg_lsn)::text AS bytes`, [startLsn])) as [{ lsn: string; bytes: string }];
      return { lsn: row.lsn, bytes: Number(row.bytes) };
    };
    // The mid target: an LSN taken while nothing writes, and production's state there.
    let mid: { lsn: string; bytes: number; expected: Awaited<ReturnType<typeof clusterFingerprint>> } | null = null;
    for (;;) {
      const wal = await walSince();
      const segments = Math.floor(wal.bytes / 2 ** 24);
      log(`  ${segments} segments after the base`);
      if (options.midTarget && !mid && segments >= (spec.midSegments ?? spec.segments / 2)) {
        mid = { ...wal, expected: await clusterFingerprint(sandbox.production) };
        log(`  mid target: LSN ${wal.lsn}, ${(wal.bytes / 2 ** 20).toFixed(0)} MiB of WAL after the base`);
      }
      if (segments >= spec.segments) break;
      // A checkpoint before each run: the run then writes full-page images (as bench/pitr.ts),
      // without which TPC-B writes well under a segment a minute on a loaded machine.
      await sandbox.query('CHECKPOINT');
      await sandbox.exec.run(pgbench, ['-n', '-c', '4', '-j', '2', '-T', String(spec.loadSeconds), ...connArgs], { timeoutMs: 600_000 });
    }
    const end = await walSince();
    await archiveAll();
    log('fingerprinting production …');
    const expected = await clusterFingerprint(sandbox.production);
    const targets = [...(mid ? [{ name: 'mid' as const, lsn: mid.lsn as string | null, expected: mid.expected }] : []), { name: 'end' as const, lsn: null, expected }];
    // Production is done (its WAL is archived): stopped, so its checkpoints and autovacuum do
    // not slow whichever restore runs first.
    await stopCluster(sandbox.exec, BIN, 'postgres', sandbox.production.dataDir, 'fast');

    // The cp floor's local copy of the archive, decompressed, made before any timing.
    const localWal = join(sandbox.root, 'local-wal');
    if (options.tools.includes('cp')) {
      const catalog = await readCatalog(sandbox.storage, new Date());
      await mkdir(localWal, { recursive: true });
      for (const segment of catalog.wal.segments) {
        await pipeline(await decodeWal(await sandbox.storage.wal.getStream(`wal/${segment.name}`)), createWriteStream(join(localWal, segment.name)));
      }
      if (owner) await chown(localWal, owner.uid, owner.gid);
      log(`${catalog.wal.segments.length} segments in our archive; local copy for the cp floor made`);
    }

    const shape: ShapeResult = {
      times: { ours: [], pgbr: [], cp: [] }, oursWall: [], oursRssKib: [], backupOursS: backups.ours, backupPgbrS: backups.pgbr, backupRssKib: backups.rssKib, rawUpload: raw, hashIdentical: true,
      restores: [], baseBytes: Number(baseBytes), walBytes: { end: end.bytes, ...(mid ? { mid: mid.bytes } : {}) },
    };
    type Target = (typeof targets)[number];
    const restorers: Record<Tool, (round: number, target: Target) => Promise<Restored>> = {
      ours: async (round, target) => {
        const to = target.lsn ? ['--lsn', target.lsn] : ['--latest'];
        const run = await recoverCli(sandbox, `pitr-${target.name}-${round}`, ['pitr', ...to, '--json', '--instance', `ours-${target.name}-${round}`]);
        const result = run.result as { dataDir: string; port: number; socketDir: string; seconds: { total: number; baseBackup: number; replay: number } };
        shape.oursWall.push(run.wallS);
        shape.oursRssKib.push(run.maxRssKib);
        const serverLog = await readFile(join(dirname(result.dataDir), 'server.log'), 'utf8').catch(() => '');
        const promote = (run.promotedAtMs === null ? null : promoteSecondsUntil(serverLog, run.promotedAtMs)) ?? promoteSeconds(serverLog);
        return {
          seconds: run.promotedS ?? run.wallS,
          phases: oursPhases(run.stepSeconds, run.startedS, promote),
          detail: `base ${result.seconds.baseBackup.toFixed(2)} + replay ${result.seconds.replay.toFixed(2)}; CLI exit (verification included) at ${run.wallS.toFixed(2)} s; peak RSS ${(run.maxRssKib / 1024).toFixed(0)} MiB; ${run.steps}`,
          cluster: { dataDir: result.dataDir, port: result.port, socketDir: result.socketDir },
          dir: dirname(result.dataDir),
        };
      },
      cp: async (round, target) => {
        const began = performance.now();
        const result = await runPitr(sandbox.context(), sandbox.config, {
          target: target.lsn ? { kind: 'lsn', lsn: parseLsn(target.lsn) } : { kind: 'latest' },
          inclusive: true,
          action: 'promote',
          to: 'side',
          instanceName: `cp-${target.name}-${round}`,
          restoreCommandOverride: `cp ${shellQuote(localWal)}/"%f" "%p"`,
        });
        return {
          seconds: seconds(began),
          phases: { select: null, base: result.seconds.baseBackup, replay: result.seconds.replay, promote: null, verify: null },
          detail: `base ${result.seconds.baseBackup.toFixed(2)} + replay ${result.seconds.replay.toFixed(2)} (verification included)`,
          cluster: { dataDir: result.dataDir, port: result.port!, socketDir: result.socketDir! },
          dir: dirname(result.dataDir),
        };
      },
      pgbr: async (round, target) => {
        const dir = join(sandbox.root, 'pgbr-restores', `pgbr-${target.name}-${round}`);
        const cluster: ClusterHandle = { dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), logFile: join(dir, 'server.log') };
        await makeOwnedDir(dir, owner);
        await makeOwnedDir(cluster.dataDir, owner);
        await makeOwnedDir(cluster.socketDir, owner);
        const config = await pgbr!.restoreConfig(`r${target.name}${round}`, cluster.dataDir);
        const began = performance.now();
        await pgbr!.run(config, ['restore', ...(target.lsn ? ['--type=lsn', `--target=${target.lsn}`, '--target-action=promote'] : [])]);
        const restoreS = seconds(began);
        if (round === 1) {
          const auto = await readFile(join(cluster.dataDir, 'postgresql.auto.conf'), 'utf8');
          log(`  pgBackRest wrote: ${auto.split('\n').find((line) => line.startsWith('restore_command')) ?? 'no restore_command'}`);
        }
        // The restored cluster must not archive into either archive, and listens where we say.
        await appendConf(cluster.dataDir, { port: String(cluster.port), unix_socket_directories: cluster.socketDir, listen_addresses: '127.0.0.1', archive_mode: 'off' }, 'bench/peer.ts');
        await startCluster(sandbox.exec, BIN, 'postgres', cluster, 3600);
        await pollPromoted(cluster);
        const total = seconds(began);
        const promote = promoteSeconds(await readFile(cluster.logFile, 'utf8').catch(() => ''));
        return { seconds: total, phases: pgbrPhases(restoreS, total, promote), detail: `restore ${restoreS.toFixed(2)} + start and replay ${(total - restoreS).toFixed(2)}`, cluster, dir };
      },
    };
    await sandbox.exec.run('sync', []);
    for (let round = 1; round <= ROUNDS; round++) {
      const order = (round % 2 === 1 ? (['ours', 'cp', 'pgbr'] as const) : (['pgbr', 'cp', 'ours'] as const)).filter((tool) => options.tools.includes(tool));
      for (const target of targets) for (const tool of order) {
        const restored = await restorers[tool](round, target);
        // The end target's times are the shape's (bench:peer's figures); every restore is a record.
        if (target.name === 'end') shape.times[tool].push(restored.seconds);
        shape.restores.push({ tool, round, target: target.name, seconds: restored.seconds, phases: restored.phases });
        // Each restore's phases as it ends: a run stopped part-way still leaves its figures.
        log(`  phases: ${Object.entries(restored.phases).map(([phase, s]) => `${phase} ${s === null ? '—' : fmt(s)}`).join(', ')}; base ${fmt(shape.baseBytes / 1e9)} GB, WAL ${fmt((shape.walBytes[target.name] ?? Number.NaN) / 1e9)} GB`);
        log(`round ${round} ${tool}${targets.length > 1 ? ` to ${target.name}` : ''}: ${restored.seconds.toFixed(2)} s (${restored.detail})`);
        const mismatches = fingerprintDiff(target.expected, await clusterFingerprint(restored.cluster));
        if (mismatches.length) {
          shape.hashIdentical = false;
          log(`!!!!! ${tool} round ${round}: RESTORED DATA DIFFERS FROM PRODUCTION — this run is invalid\n  ${mismatches.join('\n  ')}`);
        } else log(`  ${Object.keys(target.expected).length} tables identical to production`);
        await stopCluster(sandbox.exec, BIN, 'postgres', restored.cluster.dataDir, 'immediate');
        await rm(restored.dir, { recursive: true, force: true });
        await sandbox.exec.run('sync', []);
      }
    }
    return shape;
  } finally {
    await pgbr?.azurite.stop();
    await sandbox.cleanup();
  }
}

