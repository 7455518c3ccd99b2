/**
 * What the disk report reads from files PostgreSQL writes, whether the server runs or not
 * (pure): pg_controldata's output, a replication slot's state file, postmaster.opts, the server
 * log, /proc/self/mounts. Each parser returns null (or leaves a field out) rather than guess.
 */

export interface ControlFacts {
  clusterState: string;
  redoLsn: string;
  redoSegment: string;
  timeline: number;
  segmentBytes: number;
  checkpointTime: string | null;
}

/** `pg_controldata` output (run with LC_ALL=C): the fields the disk report needs; null if one is missing. */
export function parseControlData(text: string): ControlFacts | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const redoSegment = fields.get("Latest checkpoint's REDO WAL file");
  const redoLsn = fields.get("Latest checkpoint's REDO location");
  const timeline = Number(fields.get("Latest checkpoint's TimeLineID"));
  const segmentBytes = Number(fields.get('Bytes per WAL segment'));
  if (!redoSegment || !/^[0-9A-F]{24}$/.test(redoSegment) || !redoLsn || !(timeline > 0) || !(segmentBytes > 0)) return null;
  return { clusterState: fields.get('Database cluster state') ?? 'unknown', redoLsn, redoSegment, timeline, segmentBytes, checkpointTime: fields.get('Time of latest checkpoint') ?? null };
}

export interface SlotFile {
  name: string;
  kind: 'physical' | 'logical';
  /** X/Y, or null when the slot reserves no WAL (never reserved, or invalidated). */
  restartLsn: string | null;
}

const SLOT_MAGIC = 0x1051ca1;

/**
 * `pg_replslot/<name>/state` (ReplicationSlotOnDisk of PostgreSQL 12–16, little-endian): magic,
 * checksum, version, length, then the persistent data: name (64 bytes), database oid (0 for a
 * physical slot), persistency, xmin, catalog_xmin, restart_lsn (offset 96).
 */
export function parseSlotState(bytes: Buffer): SlotFile | null {
  if (bytes.length < 104 || bytes.readUInt32LE(0) !== SLOT_MAGIC) return null;
  const rawName = bytes.subarray(16, 80);
  const end = rawName.indexOf(0);
  const name = rawName.subarray(0, end < 0 ? rawName.length : end).toString('utf8');
  if (!name) return null;
  const restart = bytes.readBigUInt64LE(96);
  const restartLsn = restart === 0n ? null : `${(restart >> 32n).toString(16).toUpperCase()}/${(restart & 0xffff_ffffn).toString(16).toUpperCase()}`;
  return { name, kind: bytes.readUInt32LE(80) === 0 ? 'physical' : 'logical', restartLsn };
}

/** The `config_file` production was last started with, from postmaster.opts (`"-c" "config_file=…"` or `--config-file=…`). */
export function configFileFromOpts(text: string): string | null {
  const words = [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replace(/\\(.)/g, '$1'));
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '-c' && words[i + 1]?.startsWith('config_file=')) return words[i + 1]!.slice('config_file='.length);
    if (word.startsWith('--config-file=')) return word.slice('--config-file='.length);
    if (word.startsWith('--config_file=')) return word.slice('--config_file='.length);
  }
  return null;
}

/** A setting's last assignment in postgresql.conf text (`name = 'value'`), quotes removed; null when not set. */
export function confSetting(text: string, name: string): string | null {
  let found: string | null = null;
  const pattern = new RegExp(`^\\s*${name}\\s*=?\\s*('(?:[^']|'')*'|[^\\s#]+)`, 'i');
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    if (match) found = match[1]!.startsWith("'") ? match[1]!.slice(1, -1).replace(/''/g, "'") : match[1]!;
  }
  return found;
}

export interface LogEvidence {
  /** "archive command failed" lines: how many, the first and last seen (their timestamps when the prefix has one). */
  archiveFailures: { count: number; first: string | null; last: string | null; lastLine: string } | null;
  /** The last "No space left on device" line, as PostgreSQL wrote it. */
  diskFull: { at: string | null; line: string } | null;
}

const STAMP = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?[A-Z]{2,5}|[+-]\d\d(?::?\d\d)?)?)/;

/** What a server log says about archiving and space (log_line_prefix's %m or %t gives the times). */
export function logEvidence(text: string): LogEvidence {
  let archiveFailures: LogEvidence['archiveFailures'] = null;
  let diskFull: LogEvidence['diskFull'] = null;
  for (const line of text.split('\n')) {
    const at = STAMP.exec(line)?.[1] ?? null;
    if (/archive command failed|archiving write-ahead log file .* failed too many times/.test(line)) {
      archiveFailures = archiveFailures
        ? { count: archiveFailures.count + 1, first: archiveFailures.first ?? at, last: at ?? archiveFailures.last, lastLine: line.trim() }
        : { count: 1, first: at, last: at, lastLine: line.trim() };
    }
    if (/No space left on device/.test(line)) diskFull = { at, line: line.trim() };
  }
  return { archiveFailures, diskFull };
}

/** The mount point holding `path` (already a real path), from /proc/self/mounts: the longest mount point above it. */
export function mountOf(path: string, mounts: string): string | null {
  let best: string | null = null;
  for (const line of mounts.split('\n')) {
    const point = line.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
    if (!point) continue;
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (best === null || point.length >= best.length)) best = point;
  }
  return best;
}
