/**
 * What lies under the restore root, for `recover instances`: every side instance this tool
 * created (instance-check.ts judges each entry: the marker, its owner, the server in
 * postmaster.pid running in this data directory) with its state, port, marker (and the job
 * that restored it), size and whether a restore into it is unfinished; and
 * every other entry with the reason it is not one, so people see what blocks a name and what
 * `recover instances remove` would refuse. Reads only.
 */
import type { Exec } from './exec.js';
import { checkSideInstance, listInstances, type InstanceConfig } from './instances.js';
import { readWorkJournal } from './work-journal.js';

export interface SideInstanceInfo {
  name: string;
  state: 'running' | 'stopped';
  /** From postmaster.pid while it runs; a stopped instance gets a port when it is started again. */
  port: number | null;
  pid: number | null;
  /** From its marker (recover-instance.json): when the job created it, and its random id. */
  createdAt: string;
  markerId: string;
  /** The job that restored it (from the marker); null: the CLI, or an instance made before markers named jobs. */
  jobId: string | null;
  /**
   * A restore's work journal is still there (work-journal.ts): the restore is running, or its
   * runner was lost mid-restore (the next runner on the host tidies it). null: none.
   */
  restoring: { jobId: string | null; pid: number; startedAt: string } | 'unreadable' | null;
  workDir: string;
  dataDir: string;
  /** Bytes on disk (du), null when they cannot be read from here. */
  bytes: number | null;
}

export interface NotAnInstance {
  name: string;
  reason: string;
}

export interface RestoreRootListing {
  root: string;
  instances: SideInstanceInfo[];
  others: NotAnInstance[];
}

/** `du` of the instance directory on its own filesystem; null when du cannot read all of it. */
async function diskBytes(exec: Exec, dir: string): Promise<number | null> {
  const { stdout, exitCode } = await exec.run('du', ['-s', '-B1', '--one-file-system', '--', dir], { allowFailure: true, timeoutMs: 60_000 }).catch(() => ({ stdout: '', exitCode: 1 }));
  const bytes = Number(/^(\d+)\s/.exec(stdout)?.[1]);
  return exitCode === 0 && Number.isFinite(bytes) ? bytes : null;
}

export async function listRestoreRoot(exec: Exec, config: InstanceConfig): Promise<RestoreRootListing> {
  const listing: RestoreRootListing = { root: config.restoreRoot, instances: [], others: [] };
  for (const name of (await listInstances(config.restoreRoot)).sort()) {
    const verdict = await checkSideInstance(config, name).catch((error: unknown) => ({ ok: false as const, missing: false, reason: `cannot be checked: ${(error as Error).message}` }));
    if (!verdict.ok) {
      if (!verdict.missing) listing.others.push({ name, reason: verdict.reason });
      continue;
    }
    listing.instances.push({
      name,
      state: verdict.running ? 'running' : 'stopped',
      port: verdict.running?.port ?? null,
      pid: verdict.running?.pid ?? null,
      createdAt: verdict.marker.createdAt,
      markerId: verdict.marker.id,
      jobId: verdict.marker.jobId ?? null,
      restoring: await readWorkJournal(verdict.workDir).then((j) => (j ? { jobId: j.jobId, pid: j.pid, startedAt: j.startedAt } : null), () => 'unreadable' as const),
      workDir: verdict.workDir,
      dataDir: verdict.dataDir,
      bytes: await diskBytes(exec, verdict.workDir),
    });
  }
  return listing;
}
