/**
 * PITR speed, three ways in one run over the same base backup and the same archived WAL
 * (≥ 200 segments in Azurite): (a) ours: prefetch spool + rename; (b) restore_command = cp
 * from a local copy of the WAL (the floor); (c) one cold Node process per segment downloading
 * from Azurite (the runbook's approach). Prints ratios; never asserts.
 *
 * How good the RTO estimates are, on the 'ours' runs (issue 9): from each run's own engine
 * events, `eta_error_pct` is the ETA the status message would show (src/estimate/eta.ts) at the
 * first replay progress at or after 10 % of the bytes (with the history's profile once there is
 * one, src/estimate/profile.ts), against the replay time actually left
 * (signed: + = estimated too long; the median over the rounds after the first, whose history is
 * the earlier rounds). The first round stands for a new pool's first restore: it is estimated
 * from the runner probe's rates (src/runner/calibration.ts): `eta_error_first_pct` and
 * `plan_error_first_pct`; on the fixed defaults instead, `eta_error_uncalibrated_pct` and
 * `plan_error_first_defaults_pct`;
 * `plan_estimate_s` is what a plan
 * would have said for base restore + replay from the rates of the earlier rounds of this run
 * (src/estimate/rates.ts, as a runner pool's history), against `plan_actual_s` of the last round.
 */
import { createWriteStream } from 'node:fs';
import { appendFile, chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { join, resolve } from 'node:path';
import { startSandbox } from '../devkit/sandbox.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import { stopCluster } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { shellQuote } from '../src/engine/pg-settings.js';
import { runPitr, type PitrRequest } from '../src/engine/pitr.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { decodeWal } from '../src/wal/compression.js';
import { selectRestore } from '../src/catalog/select-restore.js';
import { errorPercent, phaseEta } from '../src/estimate/eta.js';
import { samplesOf } from '../src/estimate/observe.js';
import { aggregateRates, median, phaseEstimate, type MeasuredRates, type PhaseSample } from '../src/estimate/rates.js';
import { restoreEstimates } from '../src/estimate/restore.js';
import { calibratedRates } from '../src/estimate/calibrate.js';
import { probeRunner } from '../src/runner/calibration.js';
import type { EngineEvent, StepEstimate } from '../src/types.js';

const MIN_SEGMENTS = Number(process.argv[2] ?? 200);
// Optional second argument, e.g. "ours,local": run only these ways (quick iterations).
// "ours-agent-wait" (the agent, not the shell, waits for segments still on their way) is opt-in.
const WAYS = new Set((process.argv[3] ?? 'ours,local,naive').split(','));
const ROUNDS = Number(process.argv[4] ?? 3);
/** Optional fifth argument: a file each 'ours' round's engine events, phase times and the probe are appended to (one JSON line per round), to check ETA models offline. */
const EVENTS_FILE = process.argv[5];
const sandbox = await startSandbox({ productionSettings: { max_wal_size: '4GB', checkpoint_timeout: '30min', shared_buffers: '256MB' } });
const log = (text: string) => process.stderr.write(`${text}\n`);
try {
  const pgbench = join(sandbox.config.pg.bin, 'pgbench');
  const connArgs = ['-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres'];
  // Scale 50, as in the reference measurement of pgBackRest on this machine kind (FACTS.md).
  log('initialising pgbench scale 50 …');
  await sandbox.exec.run(pgbench, ['-i', '-s', '50', '-q', ...connArgs], { timeoutMs: 600_000 });
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  const startLsn = (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  log(`writing at least ${MIN_SEGMENTS} WAL segments with pgbench …`);
  for (;;) {
    await sandbox.exec.run(pgbench, ['-n', '-c', '4', '-j', '2', '-T', '15', ...connArgs], { timeoutMs: 600_000 });
    await sandbox.query('CHECKPOINT');
    const [row] = await sandbox.query<{ segments: string }>(`SELECT ((pg_current_wal_lsn() - $1::pg_lsn) / (16*1024*1024))::int AS segments`, [startLsn]);
    log(`  ${row!.segments} segments so far`);
    if (Number(row!.segments) >= MIN_SEGMENTS) break;
  }
  await sandbox.switchAndArchive();
  const catalog = await readCatalog(sandbox.storage, new Date());
  const target = { kind: 'latest' as const };

  // (b)'s local copy of the archive, readable by the postgres user, made before timing.
  const owner = await ownerFor('postgres');
  const localWal = join(sandbox.root, 'local-wal');
  await mkdir(localWal, { recursive: true });
  for (const segment of catalog.wal.segments) {
    await pipeline(await decodeWal(await sandbox.storage.wal.getStream(`wal/${segment.name}`)), createWriteStream(join(localWal, segment.name)));
  }
  if (owner) await chown(localWal, owner.uid, owner.gid);

  // (c)'s per-segment cold process: the bundled CLI with storage settings, as a script postgres can run.
  const naiveScript = join(sandbox.root, 'naive-restore.sh');
  const cliPath = resolve('bin/recover.mjs');
  await writeFile(
    naiveScript,
    `#!/bin/sh\nexport RECOVER_STORAGE_DRIVER=azure RECOVER_AZURE_CONNECTION_STRING=${shellQuote(sandbox.azurite.connectionString)} LOG_LEVEL=error\nexec ${shellQuote(process.execPath)} ${shellQuote(cliPath)} wal-fetch "$1" "$2"\n`,
  );
  await chmod(naiveScript, 0o755);

  const run = async (label: string, extra: Partial<PitrRequest>, events: EngineEvent[] = []) => {
    const ctx = { ...sandbox.context(), events: { emit: (event: EngineEvent) => void events.push(event) } };
    const result = await runPitr(ctx, sandbox.config, { target, inclusive: true, action: 'promote', to: 'side', instanceName: label, ...extra });
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
    log(`${label}: ${result.seconds.total.toFixed(2)} s total (base ${result.seconds.baseBackup.toFixed(2)} s, replay ${result.seconds.replay.toFixed(2)} s), ${result.walSegments} segments`);
    return result;
  };
  // Production is no longer needed (its WAL is archived): stop it so its checkpoints and
  // autovacuum after the workload do not slow whichever restore happens to run first.
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', sandbox.production.dataDir, 'fast');
  const ways: Record<string, Partial<PitrRequest>> = {
    ours: {},
    'ours-agent-wait': { waitInShell: false },
    local: { restoreCommandOverride: `cp ${shellQuote(localWal)}/"%f" "%p"` },
    naive: { restoreCommandOverride: `${shellQuote(naiveScript)} "%f" "%p"` },
  };
  // Flush the writeback of the workload, the local copy and production's shutdown now, so it
  // does not land on whichever restore happens to run first.
  await sandbox.exec.run('sync', []);
  const timings: Record<string, number[]> = { ours: [], 'ours-agent-wait': [], local: [], naive: [] };
  // The 'ours' rounds' measured phases (newest first, as the control DB gives them) and estimate errors.
  const history: PhaseSample[] = [];
  const etaErrors: number[] = [];
  let uncalibratedEtaError: number | null = null;
  let planCheck: { estimate: number; actual: number } | null = null;
  const selection = selectRestore(catalog, target);
  // The runner's start-up probe (src/runner/calibration.ts) on this machine and this archive: the
  // first round is estimated from its rates, as a new pool's first restore is (issue 24, item 4).
  // As at a runner's start: not behind the writeback of the local WAL copy just made.
  await sandbox.exec.run('sync', []);
  const probe = await probeRunner({ config: sandbox.config, storage: sandbox.storage, exec: sandbox.exec, log: sandbox.context().log });
  const probed = calibratedRates(probe);
  const mbs = (v: number | null | undefined) => (v ? `${(v / 1e6).toFixed(0)} MB/s` : 'n/a');
  log(`probe (${probe.seconds.toFixed(2)} s): disk ${mbs(probe.diskWriteBytesPerSecond)}, download ${mbs(probe.downloadBytesPerSecond)}, pg_waldump ${mbs(probe.walDecodeBytesPerSecond)} → base ${mbs(probed['restore-base-backup']?.bytesPerSecond)}, replay ${mbs(probed['replay-wal']?.bytesPerSecond)}`);
  const firstRound: Record<string, number> = {};
  // Alternate ours and the cp floor so neither always runs first.
  for (let round = 1; round <= ROUNDS; round++) {
    for (const way of round % 2 === 1 ? ['local', 'ours', 'ours-agent-wait'] : ['ours-agent-wait', 'ours', 'local']) {
      if (!WAYS.has(way)) continue;
      const events: EngineEvent[] = [];
      const rates = history.length ? aggregateRates(history) : probed;
      // The previous restore's dirty pages (its data directory, stopped without a checkpoint)
      // are written back now, not during this one: rounds got slower one after another without it.
      await sandbox.exec.run('sync', []);
      const result = await run(`${way}-${round}`, ways[way]!, events);
      if (way.startsWith('ours')) log(`  fetched: ${JSON.stringify(result.fetched)}`);
      if (way === 'ours' && EVENTS_FILE) await appendFile(EVENTS_FILE, `${JSON.stringify({ round, probe, seconds: result.seconds, load: loadavg(), events })}\n`);
      if (way === 'ours') {
        // As a plan carries it: the earlier rounds' rates, or the defaults in the first round (not yet measured).
        const eta = etaAtFraction(events, 0.1, rates);
        if (!history.length) {
          // The first restore of a new pool: the ETA at 10 % and the plan, on the probe's rates and on the fixed defaults.
          const actual = result.seconds.baseBackup + result.seconds.replay;
          const planError = (r: MeasuredRates) => {
            const planned = restoreEstimates(selection, r);
            return errorPercent(exactSeconds(planned.base.estimate) + exactSeconds(planned.replay.estimate), actual);
          };
          firstRound.eta_error_first_pct = eta?.errorPct ?? Number.NaN;
          firstRound.plan_error_first_pct = planError(probed);
          firstRound.plan_error_first_defaults_pct = planError({});
          const measured = samplesOf(events);
          log(`  first round: plan error ${firstRound.plan_error_first_pct.toFixed(1)} % on the probe's rates, ${firstRound.plan_error_first_defaults_pct.toFixed(1)} % on the defaults; measured ${measured.map((m) => `${m.phase} ${mbs(m.bytesPerSecond)}`).join(', ')}`);
        }
        if (eta) {
          if (history.length) etaErrors.push(eta.errorPct);
          else uncalibratedEtaError = etaAtFraction(events, 0.1, {})?.errorPct ?? null;
          log(`  ETA at ${eta.fraction.toFixed(2)} of replay: ${eta.estimated.toFixed(2)} s left (${eta.basis}${history.length ? '' : ", the probe's rates"}), actually ${eta.actual.toFixed(2)} s: ${eta.errorPct.toFixed(1)} %`);
        }
        // Later in the replay, for the record (the goal is set at 10 %).
        const later = [0.3, 0.5, 0.7, 0.9].flatMap((fraction) => {
          const at = etaAtFraction(events, fraction, rates);
          return at ? [`${fraction * 100} %: ${at.errorPct >= 0 ? '+' : ''}${at.errorPct.toFixed(1)} % (${at.basis})`] : [];
        });
        if (later.length) log(`  ETA error later: ${later.join(', ')}`);
        if (history.length) {
          const planned = restoreEstimates(selection, rates);
          const estimate = exactSeconds(planned.base.estimate) + exactSeconds(planned.replay.estimate);
          planCheck = { estimate, actual: result.seconds.baseBackup + result.seconds.replay };
          log(`  plan from ${history.length / 2} earlier round(s): base + replay ${estimate.toFixed(2)} s, took ${planCheck.actual.toFixed(2)} s`);
        }
        history.unshift(...samplesOf(events).reverse());
      }
      timings[way]!.push(result.seconds.total);
    }
  }
  if (WAYS.has('naive')) timings.naive!.push((await run('naive', ways.naive!)).seconds.total);
  // The median of the rounds (src/estimate/rates.ts): on a shared 2-core machine single restores swing by ±20 %.
  for (const [way, values] of Object.entries(timings)) if (values.length) log(`${way}: ${values.map((v) => v.toFixed(2)).join(', ')} s`);
  const oursS = median(timings.ours!);
  const localS = median(timings.local!);
  const naiveS = median(timings.naive!);
  if (WAYS.has('ours-agent-wait')) log(`ours with the agent waiting instead of the shell: median ${median(timings['ours-agent-wait']!).toFixed(2)} s`);
  const estimates = [
    // Rounds whose plan had measured rates (2nd on); the first round's, on the defaults, beside it.
    `eta_error_pct=${median(etaErrors).toFixed(1)}`,
    ...Object.entries(firstRound).map(([name, value]) => `${name}=${value.toFixed(1)}`),
    ...(uncalibratedEtaError !== null ? [`eta_error_uncalibrated_pct=${uncalibratedEtaError.toFixed(1)}`] : []),
    ...(planCheck ? [`plan_estimate_s=${planCheck.estimate.toFixed(2)} plan_actual_s=${planCheck.actual.toFixed(2)} plan_error_pct=${errorPercent(planCheck.estimate, planCheck.actual).toFixed(1)}`] : []),
  ].join(' ');
  process.stdout.write(
    `pitr_ours_s=${oursS.toFixed(2)} pitr_local_s=${localS.toFixed(2)} pitr_naive_s=${naiveS.toFixed(2)} ratio_ours_vs_local=${(oursS / localS).toFixed(2)} ratio_naive_vs_ours=${(naiveS / oursS).toFixed(2)} ${estimates}\n`,
  );
} finally {
  await sandbox.cleanup();
}

/** A phase's estimate in seconds, not rounded up to whole ones (the plan shows whole seconds). */
function exactSeconds(estimate: StepEstimate): number {
  return estimate.startupSeconds + estimate.bytes / estimate.bytesPerSecond + estimate.tailSeconds;
}

/**
 * The ETA the status message would show at the first replay progress at or after `fraction` of
 * the bytes (the same phaseEta, over the window since the first progress, with the estimate a
 * plan would carry for these bytes: the history's rate, tail and, for a similar size, profile),
 * and the replay time that was actually left then.
 */
function etaAtFraction(events: readonly EngineEvent[], fraction: number, rates: MeasuredRates) {
  const ms = (iso: string) => new Date(iso).getTime();
  const started = events.find((e) => e.type === 'step.started' && e.step === 'replay-wal');
  const finished = events.find((e) => e.type === 'step.finished' && e.step === 'replay-wal');
  const progress = events.flatMap((e) => (e.type === 'step.progress' && e.step === 'replay-wal' && e.total ? [e] : []));
  const at = progress.find((e) => e.done / e.total! >= fraction);
  if (!started || !finished || !at || progress.length === 0) return null;
  const first = progress[0]!;
  const eta = phaseEta(
    { total: at.total, startedAt: ms(started.at), first: { at: ms(first.at), done: first.done }, last: { at: ms(at.at), done: at.done } },
    phaseEstimate('replay-wal', at.total!, rates),
  );
  if (!eta) return null;
  const actual = (ms(finished.at) - ms(at.at)) / 1000;
  return { estimated: eta.remainingSeconds, actual, errorPct: errorPercent(eta.remainingSeconds, actual), basis: eta.basis, fraction: at.done / at.total! };
}
