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
import { ensurePgBackRest } from './peer/pgbackrest.js';
import { fmt, log, median, runShape, type ShapeResult, type ShapeSpec } from './peer/shape.js';

type ShapeName = 'wal' | 'base';
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const shapeArg = args.find((arg) => arg === 'wal' || arg === 'base' || arg === 'both') ?? 'both';
const SHAPES: ShapeName[] = shapeArg === 'both' ? ['wal', 'base'] : [shapeArg as ShapeName];
const OPTIONS = { rounds: Number(flag('rounds') ?? 2), pgbrCompress: flag('pgbr-compress') ?? 'lz4', tools: ['ours', 'cp', 'pgbr'] as const };
const SPECS: Record<ShapeName, ShapeSpec> = {
  wal: { scale: Number(flag('scale') ?? 50), segments: Number(flag('segments') ?? 200), initBeforeBase: false, loadSeconds: 15 },
  base: { scale: Number(flag('scale') ?? 300), segments: Number(flag('segments') ?? 20), initBeforeBase: true, loadSeconds: 5 },
};

log(await ensurePgBackRest(log));
const results: Partial<Record<ShapeName, ShapeResult>> = {};
for (const name of SHAPES) {
  results[name] = await runShape(name, SPECS[name], OPTIONS);
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
    // Ours to the CLI's exit, its verification included (pgBackRest verifies nothing).
    `ratio_wal_ours_exit_vs_pgbr=${fmt(median(results.wal?.oursWall ?? []) / med('wal', 'pgbr'))}`,
    `ratio_base_ours_exit_vs_pgbr=${fmt(median(results.base?.oursWall ?? []) / med('base', 'pgbr'))}`,
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
