/**
 * What makes a directory under the restore root a side instance this tool created, judged
 * from facts read off the disk (instances.ts reads them; everything here is pure).
 *
 * A side instance is `<root>/<name>`: a real directory (not a symlink) whose real path is
 * exactly that, owned by the postgres OS user or the runner, holding the marker file
 * `recover-instance.json` that createSideInstance wrote (a regular file owned by the runner,
 * writable by nobody else, naming this instance and its data directory), with `data` and
 * `run` real directories inside. When `data/postmaster.pid` is there it must name this data
 * directory and socket directory, and its process must really run in this data directory
 * (`/proc/<pid>/cwd`): only then is the server "running" and may be stopped or read.
 *
 * Trust: the marker's owner is the point. Whoever can write into the restore root (the
 * postgres OS user owns it, and anyone an operator gives write access) can plant symlinks,
 * directories and copies of files, but cannot create a file owned by the runner (root); a
 * copied marker names another instance or data directory, and a copied postmaster.pid names
 * another data directory or a process that runs elsewhere. The postgres OS user could still
 * race a check inside a directory it owns, but it already owns production's server and data:
 * it gains nothing it does not have. Root is trusted.
 */
import { join } from 'node:path';

export const MARKER_FILE = 'recover-instance.json';
const TOOL = 'recover-bot';

export interface InstanceMarker {
  tool: typeof TOOL;
  version: 1;
  name: string;
  /** Random, written once at creation: a re-check before a stop or removal must find the same one. */
  id: string;
  createdAt: string;
  /** The real path of the instance's data directory. */
  dataDir: string;
  /** The control-DB job that restored it; absent when the CLI did (or an older marker). Shown by `recover instances`, never trusted for a check. */
  jobId?: string;
}

export function markerText(marker: Omit<InstanceMarker, 'tool' | 'version'>): string {
  return `${JSON.stringify({ tool: TOOL, version: 1, ...marker })}\n`;
}

export function parseMarker(text: string): InstanceMarker | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  if (m.tool !== TOOL || m.version !== 1) return null;
  for (const key of ['name', 'id', 'createdAt', 'dataDir'] as const) if (typeof m[key] !== 'string' || m[key] === '') return null;
  const marker: InstanceMarker = { tool: TOOL, version: 1, name: m.name as string, id: m.id as string, createdAt: m.createdAt as string, dataDir: m.dataDir as string };
  return typeof m.jobId === 'string' && m.jobId !== '' ? { ...marker, jobId: m.jobId } : marker;
}

/** The first lines of postmaster.pid (PostgreSQL 10+): pid, data directory, start time, port, socket directory. */
export interface PidFile {
  pid: number;
  dataDir: string;
  port: number;
  socketDir: string;
}

export function parsePidFile(text: string): PidFile | null {
  const lines = text.split('\n');
  if (lines.length < 5) return null;
  const pid = /^\d{1,10}$/.test(lines[0]!.trim()) ? Number(lines[0]) : NaN;
  const port = /^\d{1,5}$/.test(lines[3]!.trim()) ? Number(lines[3]) : NaN;
  if (!(pid > 0) || !(port > 0 && port < 65536)) return null;
  return { pid, dataDir: lines[1]!, port, socketDir: lines[4]! };
}

export type EntryKind = 'missing' | 'symlink' | 'directory' | 'file' | 'other';

/** One path as lstat saw it, and where it really leads (null when it cannot be resolved). */
export interface PathFact {
  kind: EntryKind;
  uid?: number;
  mode?: number;
  realPath?: string | null;
  /** For a symlink: what it points to (for the message). */
  linkTarget?: string;
}

export interface InstanceFacts {
  name: string;
  /** The restore root's real path; the instance must be exactly `<root>/<name>`. */
  root: string;
  workDir: PathFact;
  /** uids that may own the instance directory: the postgres OS user's and the runner's. */
  allowedOwners: number[];
  runnerUid: number;
  marker: PathFact & { text?: string };
  data: PathFact;
  run: PathFact;
  /** data/postmaster.pid; kind 'missing' when the server is not running. */
  pidFile: PathFact & { text?: string };
  /** Where the process named in postmaster.pid runs: 'gone' when no such process, 'unknown' when /proc cannot tell. */
  processCwd?: string | 'gone' | 'unknown';
  /** Ports of the server sockets (`.s.PGSQL.<port>`) in the run directory. */
  socketPorts: number[];
}

export type InstanceVerdict =
  | { ok: false; missing: boolean; reason: string; unmarked?: boolean }
  | { ok: true; marker: InstanceMarker; workDir: string; dataDir: string; socketDir: string; running: { pid: number; port: number; socket: boolean } | null; note?: string };


function pathProblem(what: string, fact: PathFact, expected: string): string | null {
  if (fact.kind === 'missing') return `it has no ${what} directory`;
  if (fact.kind === 'symlink') return `its ${what} directory is a symbolic link${fact.linkTarget ? ` to ${fact.linkTarget}` : ''}`;
  if (fact.kind !== 'directory') return `its ${what} is not a directory`;
  if (fact.realPath !== expected) return `its ${what} directory resolves to ${fact.realPath ?? 'an unreadable path'}, not ${expected}`;
  return null;
}

/** The verdict on `<root>/<name>`: the first thing that is not as this tool left it, or the instance. */
export function judgeInstance(f: InstanceFacts): InstanceVerdict {
  const workDir = join(f.root, f.name);
  const dataDir = join(workDir, 'data');
  const socketDir = join(workDir, 'run');
  const refuse = (reason: string, extra: { unmarked?: boolean } = {}): InstanceVerdict => ({ ok: false, missing: false, reason, ...extra });
  if (f.workDir.kind === 'missing') return { ok: false, missing: true, reason: `there is no ${f.name} under ${f.root}` };
  if (f.workDir.kind === 'symlink') return refuse(`${workDir} is a symbolic link${f.workDir.linkTarget ? ` to ${f.workDir.linkTarget}` : ''}, not a directory this tool created`);
  if (f.workDir.kind !== 'directory') return refuse(`${workDir} is not a directory`);
  if (f.workDir.realPath !== workDir) return refuse(`${workDir} resolves to ${f.workDir.realPath ?? 'an unreadable path'}, outside its own place in the restore root`);
  if (!f.allowedOwners.includes(f.workDir.uid ?? -1)) return refuse(`${workDir} is owned by uid ${f.workDir.uid}, not by the postgres OS user or the runner`);
  const markerPath = join(workDir, MARKER_FILE);
  if (f.marker.kind === 'missing') return refuse(`${workDir} has no ${MARKER_FILE}: this tool did not create it (or an older version did, before instances carried the marker)`, { unmarked: true });
  if (f.marker.kind === 'symlink') return refuse(`${markerPath} is a symbolic link, not the file this tool wrote`);
  if (f.marker.kind !== 'file') return refuse(`${markerPath} is not a regular file`);
  if (f.marker.uid !== f.runnerUid) return refuse(`${markerPath} is owned by uid ${f.marker.uid}, not by the runner (uid ${f.runnerUid}) that writes it`);
  if (((f.marker.mode ?? 0o777) & 0o022) !== 0) return refuse(`${markerPath} is writable by others (mode ${((f.marker.mode ?? 0) & 0o777).toString(8)})`);
  const marker = parseMarker(f.marker.text ?? '');
  if (!marker) return refuse(`${markerPath} is not a marker this tool wrote`);
  if (marker.name !== f.name) return refuse(`${markerPath} belongs to the instance ${marker.name}, not ${f.name} (copied from another instance?)`);
  if (marker.dataDir !== dataDir) return refuse(`${markerPath} names the data directory ${marker.dataDir}, not ${dataDir}`);
  const layout = pathProblem('data', f.data, dataDir) ?? pathProblem('run', f.run, socketDir);
  if (layout) return refuse(layout);
  const found = { ok: true as const, marker, workDir, dataDir, socketDir };
  if (f.pidFile.kind === 'missing') return { ...found, running: null };
  if (f.pidFile.kind === 'symlink') return refuse(`${dataDir}/postmaster.pid is a symbolic link`);
  if (f.pidFile.kind !== 'file') return refuse(`${dataDir}/postmaster.pid is not a regular file`);
  const pid = parsePidFile(f.pidFile.text ?? '');
  if (!pid) return refuse(`${dataDir}/postmaster.pid cannot be read as PostgreSQL's`);
  if (pid.dataDir !== dataDir) return refuse(`${dataDir}/postmaster.pid names the data directory ${pid.dataDir}, not this instance's (copied from another server?)`);
  // Empty for a moment while the server starts (PostgreSQL adds the line once its sockets exist).
  if (pid.socketDir !== '' && pid.socketDir !== socketDir) return refuse(`${dataDir}/postmaster.pid names the socket directory ${pid.socketDir || '(none)'}, not ${socketDir}`);
  if (f.processCwd === 'gone') return { ...found, running: null, note: `postmaster.pid is left from a server that is no longer running (pid ${pid.pid})` };
  if (f.processCwd === 'unknown' || f.processCwd === undefined) return refuse(`cannot tell where process ${pid.pid} named in postmaster.pid runs (/proc is not readable)`);
  if (f.processCwd !== dataDir) return refuse(`process ${pid.pid} named in ${dataDir}/postmaster.pid runs in ${f.processCwd}, not in this instance's data directory`);
  return { ...found, running: { pid: pid.pid, port: pid.port, socket: f.socketPorts.includes(pid.port) } };
}
