/**
 * recover-bot against pgBackRest on the same cluster, same WAL, same target; never asserts.
 *
 *   npm run bench:peer -- [wal|base|both] [--scale N] [--segments N] [--rounds N] [--pgbr-compress lz4|gz|zst|none]
 *
 * One source cluster per shape archives through both tools at once (archive_command =
 * `pgbackrest archive-push %p && <our WAL hook>`); pgBackRest's repository is a second Azurite
 * serving https (its Azure driver speaks TLS only), ours the sandbox's Azurite over http.
 * Both tools take full base backups of the same cluster state, one each per round in
 * alternating order (ours: `recover backup`; pgBackRest: `backup --type=full`, process-max 2,
 * start-fast; backup_*_s are the medians), then each round restores the
 * newest state three ways, every restore into a fresh directory and promoted at the end of
 * the archived WAL:
 *   ours  `recover pitr --latest --json` (the CLI, so other work on base backups and replay
 *         is picked up as it lands); timed from spawn to the CLI's "✓ replay-wal" line (the
 *         server is promoted then; the CLI's own verification after that is reported apart).
 *   pgbr  `pgbackrest restore` (default type: end of the archive) with async archive-get,
 *         process-max 2, then pg_ctl start; timed from the restore command to
 *         pg_is_in_recovery() = false.
 *   cp    our base restore with restore_command = cp from a local decompressed copy of the
 *         WAL (runPitr's restoreCommandOverride): the floor.
 * The tool order alternates between rounds (odd: ours, cp, pgbr; even: pgbr, cp, ours): the
 * first restore after the load runs on a colder cache. After each restore every user table
 * is fingerprinted (bench/peer/hash.ts) and compared with production's state before it was
 * stopped; a mismatch is printed loudly and the last line says hash_identical=false.
 *
 * Shapes: wal = pgbench scale 50 initialised after a small base (empty cluster), ≥ 200 segments
 * after the base; base = pgbench scale 300 (≈ 4.5 GB) before the base, ~20 segments after it
 * (the initial load is not archived: only WAL after the base backups is needed). --scale and
 * --segments override the selected shape(s) for quick checks (e.g. `wal --scale 5 --segments 20`).
 * backup_upload_ratio: the database bytes our backup moves per second (median time) against a
 * raw upload of its stored parts with the same client and parallelism (bench/peer/raw-upload.ts);
 * backup_stored_upload_ratio: the same with its stored (compressed) bytes.
 * Peak RSS: the recover CLI process's own VmHWM (bench/peer/max-rss.mjs), not its child
 * tools. Medians over the rounds; timings on a shared machine swing by ±20 %.
 */
import { execa } from 'execa';
import { availableParallelism } from 'node:os';
import { createWriteStream } from 'node:fs';
import { chown, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { startSandbox, type Sandbox } from '../devkit/sandbox.js';
import { appendConf, clusterClient, freePort, makeOwnedDir, startCluster, stopCluster, type ClusterHandle } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { confQuote, shellQuote } from '../src/engine/pg-settings.js';
import { runPitr } from '../src/engine/pitr.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { decodeWal } from '../src/wal/compression.js';
import { clusterFingerprint, fingerprintDiff } from './peer/hash.js';
import { defaultBaseParallel } from '../src/config.js';
import { ensurePgBackRest, startPgBackRest, type PgBackRest } from './peer/pgbackrest.js';
import { rawUploadSeconds, type StoredBackup } from './peer/raw-upload.js';

type ShapeName = 'wal' | 'base';
interface ShapeSpec {
  scale: number;
  segments: number;
  /** pgbench -i before the base backups (base) or after them (wal). */
  initBeforeBase: boolean;
  loadSeconds: number;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const shapeArg = args.find((arg) => arg === 'wal' || arg === 'base' || arg === 'both') ?? 'both';
const SHAPES: ShapeName[] = shapeArg === 'both' ? ['wal', 'base'] : [shapeArg as ShapeName];
const ROUNDS = Number(flag('rounds') ?? 2);
const PGBR_COMPRESS = flag('pgbr-compress') ?? 'lz4';
const SPECS: Record<ShapeName, ShapeSpec> = {
  wal: { scale: Number(flag('scale') ?? 50), segments: Number(flag('segments') ?? 200), initBeforeBase: false, loadSeconds: 15 },
  base: { scale: Number(flag('scale') ?? 300), segments: Number(flag('segments') ?? 20), initBeforeBase: true, loadSeconds: 5 },
};
const BIN = '/usr/lib/postgresql/15/bin';
const log = (text: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const seconds = (since: number) => (performance.now() - since) / 1000;
const median = (values: number[]) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

interface CliRun {
  wallS: number;
  /** Spawn to the "✓ replay-wal" progress line (pitr only). */
  promotedS: number | null;
  maxRssKib: number;
  result: Record<string, unknown>;
  /** The CLI's steps and their seconds. */
  steps: string;
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
  let startedS: number | null = null;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    if (startedS === null && /▶/.test(stderr)) startedS = seconds(began);
    if (promotedS === null && /✓ replay-wal/.test(stderr)) promotedS = seconds(began);
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
  return { wallS, promotedS, maxRssKib, result: parsed.result, steps: stepsText };
}

interface Restored {
  seconds: number;
  detail: string;
  cluster: Pick<ClusterHandle, 'socketDir' | 'port' | 'dataDir'>;
  /** Removed after hashing. */
  dir: string;
}

interface ShapeResult {
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

async function runShape(name: ShapeName, spec: ShapeSpec): Promise<ShapeResult> {
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

    const [{ lsn: startLsn }] = (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
    if (!spec.initBeforeBase) await init();
    for (;;) {
      const [row] = await sandbox.query<{ segments: string }>(`SELECT ((pg_current_wal_lsn() - $1::pg_lsn) / (16*1024*1024))::int AS segments`, [startLsn]);
      log(`  ${row!.segments} segments after the base`);
      if (Number(row!.segments) >= spec.segments) break;
      // A checkpoint before each run: the run then writes full-page images (as bench/pitr.ts),
      // without which TPC-B writes well under a segment a minute on a loaded machine.
      await sandbox.query('CHECKPOINT');
      await sandbox.exec.run(pgbench, ['-n', '-c', '4', '-j', '2', '-T', String(spec.loadSeconds), ...connArgs], { timeoutMs: 600_000 });
    }
    await archiveAll();
    log('fingerprinting production …');
    const expected = await clusterFingerprint(sandbox.production);
    // Production is done (its WAL is archived): stopped, so its checkpoints and autovacuum do
    // not slow whichever restore runs first.
    await stopCluster(sandbox.exec, BIN, 'postgres', sandbox.production.dataDir, 'fast');

    // The cp floor's local copy of the archive, decompressed, made before any timing.
    const catalog = await readCatalog(sandbox.storage, new Date());
    const localWal = join(sandbox.root, 'local-wal');
    await mkdir(localWal, { recursive: true });
    for (const segment of catalog.wal.segments) {
      await pipeline(await decodeWal(await sandbox.storage.wal.getStream(`wal/${segment.name}`)), createWriteStream(join(localWal, segment.name)));
    }
    if (owner) await chown(localWal, owner.uid, owner.gid);
    log(`${catalog.wal.segments.length} segments in our archive; local copy for the cp floor made`);

    const shape: ShapeResult = { times: { ours: [], pgbr: [], cp: [] }, oursWall: [], oursRssKib: [], backupOursS: backups.ours, backupPgbrS: backups.pgbr, backupRssKib: backups.rssKib, rawUpload: raw, hashIdentical: true };
    const restorers: Record<'ours' | 'pgbr' | 'cp', (round: number) => Promise<Restored>> = {
      ours: async (round) => {
        const run = await recoverCli(sandbox, `pitr-${round}`, ['pitr', '--latest', '--json', '--instance', `ours-${round}`]);
        const result = run.result as { dataDir: string; port: number; socketDir: string; seconds: { total: number; baseBackup: number; replay: number } };
        shape.oursWall.push(run.wallS);
        shape.oursRssKib.push(run.maxRssKib);
        return {
          seconds: run.promotedS ?? run.wallS,
          detail: `base ${result.seconds.baseBackup.toFixed(2)} + replay ${result.seconds.replay.toFixed(2)}; CLI exit (verification included) at ${run.wallS.toFixed(2)} s; peak RSS ${(run.maxRssKib / 1024).toFixed(0)} MiB; ${run.steps}`,
          cluster: { dataDir: result.dataDir, port: result.port, socketDir: result.socketDir },
          dir: dirname(result.dataDir),
        };
      },
      cp: async (round) => {
        const began = performance.now();
        const result = await runPitr(sandbox.context(), sandbox.config, {
          target: { kind: 'latest' },
          inclusive: true,
          action: 'promote',
          to: 'side',
          instanceName: `cp-${round}`,
          restoreCommandOverride: `cp ${shellQuote(localWal)}/"%f" "%p"`,
        });
        return {
          seconds: seconds(began),
          detail: `base ${result.seconds.baseBackup.toFixed(2)} + replay ${result.seconds.replay.toFixed(2)} (verification included)`,
          cluster: { dataDir: result.dataDir, port: result.port!, socketDir: result.socketDir! },
          dir: dirname(result.dataDir),
        };
      },
      pgbr: async (round) => {
        const dir = join(sandbox.root, 'pgbr-restores', `pgbr-${round}`);
        const cluster: ClusterHandle = { dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), logFile: join(dir, 'server.log') };
        await makeOwnedDir(dir, owner);
        await makeOwnedDir(cluster.dataDir, owner);
        await makeOwnedDir(cluster.socketDir, owner);
        const config = await pgbr!.restoreConfig(`r${round}`, cluster.dataDir);
        const began = performance.now();
        await pgbr!.run(config, ['restore']);
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
        return { seconds: total, detail: `restore ${restoreS.toFixed(2)} + start and replay ${(total - restoreS).toFixed(2)}`, cluster, dir };
      },
    };
    await sandbox.exec.run('sync', []);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const tool of round % 2 === 1 ? (['ours', 'cp', 'pgbr'] as const) : (['pgbr', 'cp', 'ours'] as const)) {
        const restored = await restorers[tool](round);
        shape.times[tool].push(restored.seconds);
        log(`round ${round} ${tool}: ${restored.seconds.toFixed(2)} s (${restored.detail})`);
        const mismatches = fingerprintDiff(expected, await clusterFingerprint(restored.cluster));
        if (mismatches.length) {
          shape.hashIdentical = false;
          log(`!!!!! ${tool} round ${round}: RESTORED DATA DIFFERS FROM PRODUCTION — this run is invalid\n  ${mismatches.join('\n  ')}`);
        } else log(`  ${Object.keys(expected).length} tables identical to production`);
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

log(await ensurePgBackRest(log));
const results: Partial<Record<ShapeName, ShapeResult>> = {};
for (const name of SHAPES) {
  results[name] = await runShape(name, SPECS[name]);
  const r = results[name]!;
  log(
    `${name}: ours ${r.times.ours.map(fmt).join(', ')} s (CLI exit ${r.oursWall.map(fmt).join(', ')}); pgBackRest ${r.times.pgbr.map(fmt).join(', ')} s; cp ${r.times.cp.map(fmt).join(', ')} s; ` +
      `backup ours ${r.backupOursS.map(fmt).join(', ')} s vs pgBackRest ${r.backupPgbrS.map(fmt).join(', ')} s`,
  );
}
const med = (shape: ShapeName, tool: 'ours' | 'pgbr' | 'cp') => median(results[shape]?.times[tool] ?? []);
// The backup comparison that matters is the large base; the WAL shape's base is an empty cluster.
const backupShape = results.base ?? results.wal!;
const rssPitr = Math.max(...Object.values(results).flatMap((r) => r.oursRssKib));
const uploadRatio = (bytes: 'rawBytes' | 'bytes') => {
  const raw = backupShape.rawUpload;
  return raw ? raw[bytes] / median(backupShape.backupOursS) / (raw.bytes / raw.seconds) : Number.NaN;
};
process.stdout.write(
  [
    `peer_wal_ours_s=${fmt(med('wal', 'ours'))}`,
    `peer_wal_pgbr_s=${fmt(med('wal', 'pgbr'))}`,
    `peer_base_ours_s=${fmt(med('base', 'ours'))}`,
    `peer_base_pgbr_s=${fmt(med('base', 'pgbr'))}`,
    `ratio_wal_ours_vs_pgbr=${fmt(med('wal', 'ours') / med('wal', 'pgbr'))}`,
    `ratio_base_ours_vs_pgbr=${fmt(med('base', 'ours') / med('base', 'pgbr'))}`,
    `backup_ours_s=${fmt(median(backupShape.backupOursS))}`,
    `backup_pgbr_s=${fmt(median(backupShape.backupPgbrS))}`,
    // Our backup's throughput against a raw upload of its stored bytes (goal ≥ 0.8): the database's bytes, and the stored ones.
    `backup_upload_ratio=${fmt(uploadRatio('rawBytes'))}`,
    `backup_stored_upload_ratio=${fmt(uploadRatio('bytes'))}`,
    `peer_wal_cp_s=${fmt(med('wal', 'cp'))}`,
    `peer_base_cp_s=${fmt(med('base', 'cp'))}`,
    `rss_pitr_mib=${fmt(rssPitr / 1024)}`,
    `rss_backup_mib=${fmt(backupShape.backupRssKib / 1024)}`,
    `hash_identical=${Object.values(results).every((r) => r.hashIdentical)}`,
  ].join(' ') + '\n',
);
