/**
 * Restoring one logical dump (issue 22): ours (src/engine/dumps/load.ts, as /recover dump runs it)
 * against plain `pg_restore -j 1` and `pg_restore -j <cores>` with default settings. One local
 * cluster with production's durability (fsync on, wal_level replica, default settings); a "shop"
 * database with tables from ~10 MB to ~1 GB, 13 indexes, 5 foreign keys and 3 large objects
 * (factor 1: about 1.9 GB once restored), dumped once with pg_dump -Fd. Each run restores the same
 * dump into a fresh database (CREATE DATABASE included in the time), which is then dropped and a
 * CHECKPOINT taken so no run pays for the previous one's dirty buffers. Variants alternate within
 * each round, reversed every other round (the machine is shared); medians. Never asserts.
 * Like for like: every variant's time is CREATE DATABASE plus its pg_restore run(s) only; ours is
 * loadDump alone, without /recover dump's download, sha256 checks, ANALYZE or verification. Every
 * variant starts right after a CHECKPOINT (the first one too, so none inherits a timed checkpoint).
 * Other variants measure one lever at a time: `sections` (ours with pre-data / data / post-data
 * barriers instead of one pipelined pass), `nosettings` (ours without the session settings), `walc`
 * (ours with wal_compression=lz4 for its sessions), `nopar` (ours with max_parallel_maintenance_workers=0),
 * `onepass` (ours without the separate schema run), `mwm<MB>` / `noparmwm<MB>` (another maintenance_work_mem).
 *
 *   npm run bench:dump -- [factor, default 1] [rounds, default 3] [variants, default ours,j1,jn] [statements] [cache=<dir>]
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { POST_DATA_MAINTENANCE_MB } from '../commands/dump/index.js';
import { DEFAULT_LEVERS, loadDump, type LoadLevers } from '../src/engine/dumps/load.js';
import { createExec } from '../src/engine/exec.js';
import { freePort, initCluster, makeOwnedDir, startOnFreePort, stopCluster, withClient } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { pgDumpDirectoryArgs, pgRestoreDirectoryArgs } from '../src/engine/pg-args.js';

const BIN = '/usr/lib/postgresql/15/bin';
const FACTOR = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 3);
const VARIANTS = (process.argv[4] ?? 'ours,j1,jn').split(',');
/** `statements`: the server's log of every statement over 1 s (with its duration and time) is printed at the end. */
const FLAGS = process.argv.slice(5);
const STATEMENTS = FLAGS.includes('statements');
/** `cache=<dir>`: the shop's dump is kept in <dir>/factor-<f> and reused by the next run at that factor (screening levers without rebuilding the shop each time). */
const CACHE = FLAGS.find((flag) => flag.startsWith('cache='))?.slice('cache='.length);
const CORES = availableParallelism();
/** What /recover dump and dumpall give each restore session (commands/dump). */
const MAINTENANCE_MB = POST_DATA_MAINTENANCE_MB;
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rows = (n: number) => Math.max(1000, Math.round(n * FACTOR));

/** The shop: products ~13 MB, customers ~30 MB, orders ~100 MB, order_lines ~250 MB, events ~900 MB (factor 1, heap only). */
const schemaSql = `
CREATE TABLE products (id int PRIMARY KEY, sku text UNIQUE NOT NULL, name text NOT NULL, description text, price numeric(10,2));
CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE NOT NULL, name text, country char(2), created timestamptz NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), status text NOT NULL, total numeric(12,2), created timestamptz NOT NULL);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders(id), n int NOT NULL, product_id int NOT NULL REFERENCES products(id), qty int, price numeric(10,2), PRIMARY KEY (order_id, n));
CREATE TABLE events (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), kind text NOT NULL, created timestamptz NOT NULL, payload text);
CREATE SEQUENCE order_no START 1000;
COMMENT ON TABLE events IS 'what customers did';
INSERT INTO products SELECT g, 'sku-' || g, 'product ' || g, repeat(md5(g::text), 3), (g % 500) + 0.99 FROM generate_series(1, ${rows(80_000)}) g;
INSERT INTO customers SELECT g, 'c' || g || '@example.net', 'customer ' || md5(g::text), (ARRAY['DE','FR','US','NL'])[1 + g % 4], '2024-01-01'::timestamptz + g * interval '13 second' FROM generate_series(1, ${rows(400_000)}) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % ${rows(400_000)}, (ARRAY['paid','sent','new'])[1 + g % 3], (g % 10000) / 7.0, '2024-01-01'::timestamptz + g * interval '3 second' FROM generate_series(1::bigint, ${rows(1_500_000)}) g;
INSERT INTO order_lines SELECT g / 3, g % 3, 1 + (g * 31) % ${rows(80_000)}, 1 + g % 5, (g % 500) + 0.99 FROM generate_series(3::bigint, ${rows(1_500_000) * 3 + 2}) g;
INSERT INTO events SELECT g, 1 + (g * 104729) % ${rows(400_000)}, (ARRAY['view','click','cart','buy','login'])[1 + g % 5], '2024-01-01'::timestamptz + g * interval '1 second', md5(g::text) || md5((g * 3)::text) FROM generate_series(1::bigint, ${rows(7_000_000)}) g;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_created ON orders (created);
CREATE INDEX order_lines_product ON order_lines (product_id);
CREATE INDEX events_customer ON events (customer_id);
CREATE INDEX events_created ON events (created);
CREATE INDEX events_kind_created ON events (kind, created);
CREATE INDEX customers_country ON customers (country, created);
SELECT lo_from_bytea(0, decode(string_agg(md5(g::text || 'lo' || n), ''), 'hex')) FROM generate_series(1, 3) n, generate_series(1, 65536) g GROUP BY n;
`;

const exec = createExec(pino({ level: 'silent' }));
const dir = await mkdtemp(join(tmpdir(), 'rb-bench-dump-'));
await chmod(dir, 0o755);
const owner = await ownerFor('postgres');
// Production's durability; nothing tuned for the bench beyond a WAL size a loaded server has.
const cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner, dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { max_wal_size: '4GB', shared_buffers: '256MB', ...(STATEMENTS ? { log_min_duration_statement: '1000', log_line_prefix: '%m [%p] ', log_checkpoints: 'on' } : {}) } }));
const conn = { host: cluster.socketDir, port: cluster.port, user: 'postgres' };
const asPostgres = { asUser: 'postgres', timeoutMs: 3 * 3_600_000 };
const sql = (text: string, db = 'postgres') => withClient(cluster, db, (client) => client.query(text));
const times = new Map<string, number[]>(VARIANTS.map((variant) => [variant, []]));
const loadStart = loadavg()[0]!.toFixed(1);
try {
  const cached = CACHE ? join(CACHE, `factor-${FACTOR}`) : null;
  let dumpDir = join(dir, 'dump', 'files');
  let shopMb: number;
  if (cached && existsSync(join(cached, 'files', 'toc.dat'))) {
    dumpDir = join(cached, 'files');
    shopMb = Number(await readFile(join(cached, 'shop_mb'), 'utf8'));
    log(`reusing the dump of a ${shopMb} MB shop in ${cached}`);
  } else {
    log(`creating shop (factor ${FACTOR}) …`);
    await sql('CREATE DATABASE shop');
    await sql(schemaSql, 'shop');
    await sql('VACUUM ANALYZE', 'shop');
    shopMb = Number((await sql(`SELECT pg_database_size('shop') / 1048576 AS mb`)).rows[0].mb);
    if (cached) {
      await mkdir(CACHE!, { recursive: true, mode: 0o755 });
      await makeOwnedDir(cached, owner);
      await chmod(cached, 0o755);
      await writeFile(join(cached, 'shop_mb'), String(shopMb));
      dumpDir = join(cached, 'files');
    } else await makeOwnedDir(join(dir, 'dump'), owner);
    log(`shop is ${shopMb} MB; pg_dump -Fd -j ${CORES} …`);
    await exec.run(...pgDumpDirectoryArgs(BIN, { ...conn, dbname: 'shop' }, dumpDir, CORES), asPostgres);
    await sql('DROP DATABASE shop');
  }
  await sql('CHECKPOINT');
  const dumpMb = Number((await exec.run('du', ['-sm', dumpDir])).stdout.split('\t')[0]);
  log(`dump is ${dumpMb} MB`);

  const levers: Record<string, LoadLevers> = { ours: DEFAULT_LEVERS, split: { ...DEFAULT_LEVERS, split: true }, nokeys: { ...DEFAULT_LEVERS, splitKeys: false }, restorer: { ...DEFAULT_LEVERS, parallelLoader: false }, restorernopar: { ...DEFAULT_LEVERS, parallelLoader: false, parallelWorkers: false }, sections: { ...DEFAULT_LEVERS, pipelined: false }, nosettings: { ...DEFAULT_LEVERS, sessionSettings: false }, walc: { ...DEFAULT_LEVERS, walCompression: true }, nopar: { ...DEFAULT_LEVERS, parallelWorkers: false }, onepass: { ...DEFAULT_LEVERS, schemaRun: false } };
  const restore = async (variant: string, target: string) => {
    if (variant === 'j1' || variant === 'jn') {
      const [file, args] = pgRestoreDirectoryArgs(BIN, { ...conn, dbname: target }, dumpDir, variant === 'j1' ? 1 : CORES);
      await exec.run(file, args.filter((word) => word !== '--verbose'), asPostgres);
      return;
    }
    // `mwm<MB>` / `noparmwm<MB>`: ours (or nopar) with another maintenance_work_mem.
    const memory = /^(\w*?)mwm(\d+)$/.exec(variant);
    // `wide`: ours with one session more than cores (fills the gaps where a session waits).
    const wide = variant === 'wide';
    const lever = wide ? DEFAULT_LEVERS : levers[memory ? memory[1] || 'ours' : variant];
    if (!lever) throw new Error(`unknown variant ${variant}`);
    await loadDump((file, args, env) => exec.run(file, args, { ...asPostgres, env }), () => () => 0, { bin: BIN, conn: { ...conn, dbname: target }, client: { host: conn.host, port: conn.port, user: conn.user, database: target }, dumpDir, jobs: wide ? CORES + 1 : CORES, noOwner: false, maintenanceWorkMemMb: memory ? Number(memory[2]) : MAINTENANCE_MB }, lever);
  };
  let restoredMb = 0;
  // One untimed restore first: a new cluster has no WAL files to recycle yet (the first variant
  // would pay for creating ~2 GB of them) and the dump's files are then in the page cache for all.
  log('warm-up restore (untimed) …');
  await sql('CREATE DATABASE shop_warmup TEMPLATE template0');
  await restore('jn', 'shop_warmup');
  await sql('DROP DATABASE shop_warmup');
  await sql('CHECKPOINT');
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      const target = `shop_${variant}`;
      const start = performance.now();
      await sql(`CREATE DATABASE ${target} TEMPLATE template0`);
      await restore(variant, target);
      const seconds = (performance.now() - start) / 1000;
      times.get(variant)!.push(seconds);
      restoredMb = Number((await sql(`SELECT pg_database_size('${target}') / 1048576 AS mb`)).rows[0].mb);
      const [{ n }] = (await sql('SELECT count(*)::int AS n FROM events', target)).rows;
      log(`round ${round + 1} ${variant}: ${seconds.toFixed(1)} s (${restoredMb} MB restored, ${n} events)`);
      await sql(`DROP DATABASE ${target}`);
      await sql('CHECKPOINT');
    }
  }
  for (const variant of VARIANTS) log(`${variant}: ${times.get(variant)!.map((s) => s.toFixed(1)).join(' ')} → median ${median(times.get(variant)!).toFixed(1)} s`);
  log(`shop ${shopMb} MB, dump ${dumpMb} MB, restored ${restoredMb} MB, ${CORES} cores, maintenance_work_mem ${MAINTENANCE_MB} MB for ours`);
  const m = (variant: string) => (times.has(variant) ? median(times.get(variant)!) : NaN);
  // The restored size and the machine's load go on the result line: the goal is stated at a size, and the machine is shared.
  console.log(`dump_ours_s=${m('ours').toFixed(1)} dump_j1_s=${m('j1').toFixed(1)} dump_jn_s=${m('jn').toFixed(1)} ratio_ours_vs_j1=${(m('ours') / m('j1')).toFixed(2)} ratio_ours_vs_jn=${(m('ours') / m('jn')).toFixed(2)} restored_mb=${restoredMb} load_start=${loadStart} load_end=${loadavg()[0]!.toFixed(1)}`);
  if (STATEMENTS) log((await readFile(cluster.logFile, 'utf8')).split('\n').filter((line) => /duration|checkpoint/.test(line)).map((line) => line.slice(0, 220)).join('\n'));
} finally {
  await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate');
  await rm(dir, { recursive: true, force: true });
}
