/**
 * Reading a crashed cluster's own pg_wal with pg_waldump: where its valid WAL ends, which
 * transactions committed in it, and which relation files the WAL after the latest checkpoint's
 * REDO touches. pg_waldump stops at the first record it cannot read; that is the end of WAL,
 * unless valid WAL follows it (damage: what follows cannot be replayed). Output is parsed line by
 * line as it streams (a scan may cover gigabytes of WAL); the parser is pure.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { formatLsn, parseLsn } from '../../catalog/segments.js';
import type { EngineContext, PgToolConfig } from '../context.js';

export interface CommitSeen {
  xid: string;
  lsn: string;
  /** UTC, as pg_waldump prints it with TZ=UTC: `YYYY-MM-DD HH:MM:SS.ffffff`. */
  time: string;
}

export interface WalScan {
  records: number;
  firstLsn: string | null;
  /** Start of the last record pg_waldump could read. */
  lastRecordLsn: string | null;
  /** Where the valid WAL ends: the end of the last readable record (8-byte aligned). */
  endLsn: string | null;
  /** pg_waldump's reason for stopping (null when it reached the --end it was given). */
  stopReason: string | null;
  /** Commits at or after `commitsFrom` (the first WAL the archive lacks): what exists only here. */
  commits: { count: number; first: CommitSeen | null; last: CommitSeen | null; sample: CommitSeen[] };
  /** Relation files (data-directory paths) whose blocks WAL after `relationsFrom` touches, minus those it creates or drops. */
  relationFiles: string[];
}

const RECORD = /^rmgr: (\S+)\s+len \(rec\/tot\):\s*\d+\/\s*(\d+), tx:\s*(\d+), lsn: ([0-9A-F]+\/[0-9A-F]+), prev [^,]*, desc: (.*)$/;
const BLOCK_REF = /blkref #\d+: rel (\d+)\/(\d+)\/(\d+)(?: fork (\w+))? blk \d+/g;
const COMMIT = /^(?:COMMIT|COMMIT_PREPARED)\b.*?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) UTC/;
const DROPPED = /; rels: ([^;]+)/;
const SAMPLE = 20;
const DEFAULT_TABLESPACE = 1663;
const GLOBAL_TABLESPACE = 1664;

/** Where a relation's main fork lives in the data directory (segment 0). Pure. */
export function relationPath(spc: number, db: number, rel: number, catalogVersion: string, major = 15): string {
  if (spc === GLOBAL_TABLESPACE) return `global/${rel}`;
  if (spc === DEFAULT_TABLESPACE) return `base/${db}/${rel}`;
  return `pg_tblspc/${spc}/PG_${major}_${catalogVersion}/${db}/${rel}`;
}

/** A parser fed pg_waldump's stdout line by line, then its stderr once it has exited. */
export class WalScanParser {
  private records = 0;
  private firstLsn: string | null = null;
  private last: { lsn: bigint; total: number } | null = null;
  private readonly referenced = new Set<string>();
  private readonly createdOrDropped = new Set<string>();
  private readonly commits: WalScan['commits'] = { count: 0, first: null, last: null, sample: [] };

  constructor(private readonly options: { commitsFrom: bigint | null; relationsFrom: bigint | null; catalogVersion: string }) {}

  line(text: string): void {
    const match = RECORD.exec(text);
    if (!match) return;
    const [, rmgr, total, xid, lsnText, desc] = match as unknown as [string, string, string, string, string, string];
    const lsn = parseLsn(lsnText);
    this.records++;
    this.firstLsn ??= lsnText;
    this.last = { lsn, total: Number(total) };
    if (rmgr === 'Transaction') {
      const commit = COMMIT.exec(desc);
      if (commit && (this.options.commitsFrom === null || lsn >= this.options.commitsFrom)) {
        const seen = { xid, lsn: lsnText, time: commit[1]! };
        this.commits.count++;
        this.commits.first ??= seen;
        this.commits.last = seen;
        if (this.commits.sample.length < SAMPLE) this.commits.sample.push(seen);
      }
      const dropped = DROPPED.exec(desc);
      if (dropped) for (const path of dropped[1]!.trim().split(/\s+/)) this.createdOrDropped.add(path);
      return;
    }
    if (rmgr === 'Storage' && desc.startsWith('CREATE ')) {
      this.createdOrDropped.add(desc.slice('CREATE '.length).trim().split(/\s+/)[0]!);
      return;
    }
    if (this.options.relationsFrom === null || lsn < this.options.relationsFrom) return;
    for (const ref of desc.matchAll(BLOCK_REF)) {
      // Only the main fork must exist: the free-space and visibility maps are rebuilt when missing.
      if (ref[4] !== undefined && ref[4] !== 'main') continue;
      this.referenced.add(relationPath(Number(ref[1]), Number(ref[2]), Number(ref[3]), this.options.catalogVersion));
    }
  }

  /** pg_waldump's stderr and exit code: why it stopped. */
  finish(stderr: string, exitCode: number): WalScan {
    const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const error = [...lines].reverse().find((l) => /error:/.test(l)) ?? (exitCode !== 0 ? (lines.at(-1) ?? `exit ${exitCode}`) : null);
    const end = this.last ? this.last.lsn + BigInt(Math.ceil(this.last.total / 8) * 8) : null;
    return {
      records: this.records,
      firstLsn: this.firstLsn,
      lastRecordLsn: this.last ? formatLsn(this.last.lsn) : null,
      endLsn: end === null ? null : formatLsn(end),
      stopReason: error ? error.replace(/^pg_waldump: error: /, '') : null,
      commits: this.commits,
      relationFiles: [...this.referenced].filter((path) => !this.createdOrDropped.has(path)).sort(),
    };
  }
}

export interface ScanRequest {
  walDir: string;
  timeline: number;
  start: string;
  end?: string;
  commitsFrom: string | null;
  relationsFrom: string | null;
  catalogVersion: string;
}

/** Runs pg_waldump over a directory from `start` (to `end`, or to the first unreadable record), parsing as it streams. */
export async function scanWal(ctx: Pick<EngineContext, 'exec' | 'signal'>, tools: PgToolConfig, request: ScanRequest): Promise<WalScan> {
  const parser = new WalScanParser({
    commitsFrom: request.commitsFrom === null ? null : parseLsn(request.commitsFrom),
    relationsFrom: request.relationsFrom === null ? null : parseLsn(request.relationsFrom),
    catalogVersion: request.catalogVersion,
  });
  // An end not after the start (the start's own file missing): left out, and pg_waldump says which file it cannot find.
  const end = request.end && parseLsn(request.end) > parseLsn(request.start) ? ['--end', request.end] : [];
  const args = ['--path', request.walDir, '--timeline', String(request.timeline), '--start', request.start, ...end];
  // TZ=UTC: commit times print as UTC. Read-only over pg_wal; root may read the postgres user's files.
  const child = ctx.exec.spawn(join(tools.bin, 'pg_waldump'), args, { env: { TZ: 'UTC', LC_ALL: 'C' }, signal: ctx.signal, timeoutMs: 30 * 60_000, stdoutStream: true, allowFailure: true });
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  lines.on('line', (line) => parser.line(line));
  const closed = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  const result = await child;
  await closed;
  if (result.isCanceled || result.timedOut) throw new Error(`pg_waldump over ${request.walDir} was ${result.isCanceled ? 'cancelled' : 'stopped after 30 minutes'}`);
  return parser.finish(String(result.stderr ?? ''), result.exitCode ?? -1);
}
