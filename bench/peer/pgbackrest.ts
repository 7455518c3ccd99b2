/**
 * pgBackRest as the peer in bench/peer.ts: installed from apt when missing, its repository in
 * a second Azurite that serves https (pgBackRest's Azure driver speaks TLS only) with a
 * self-signed certificate, run as the postgres OS user with its config, lock, log and spool
 * directories under the bench's temp directory.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { startAzurite, AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteHandle } from '../../devkit/azurite.js';
import type { Exec } from '../../src/engine/exec.js';
import { makeOwnedDir, writeOwnedFile } from '../../src/engine/local-cluster.js';
import { shellQuote } from '../../src/engine/pg-settings.js';

export const STANZA = 'bench';
const CONTAINER = 'pgbackrest';
type Owner = { uid: number; gid: number } | undefined;

/** `apt-get install -y pgbackrest` when it is not on PATH; returns its version line. */
export async function ensurePgBackRest(log: (text: string) => void): Promise<string> {
  const found = await execa('pgbackrest', ['version'], { reject: false });
  if (found.exitCode === 0) return found.stdout.trim();
  log('pgbackrest not found: apt-get install -y pgbackrest …');
  await execa('apt-get', ['install', '-y', 'pgbackrest'], { env: { DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'ignore' });
  return (await execa('pgbackrest', ['version'])).stdout.trim();
}

export interface PgBackRest {
  azurite: AzuriteHandle;
  /** The config of the source cluster (archive-push, backup). */
  sourceConfig: string;
  archivePushCommand: string;
  /** Runs pgbackrest as the postgres user with --config and --stanza. */
  run(config: string, args: string[], timeoutMs?: number): Promise<string>;
  /** A config for restoring into dataDir: async archive-get with process-max 2 and its own spool. */
  restoreConfig(name: string, dataDir: string): Promise<string>;
}

export interface SourceCluster {
  dataDir: string;
  socketDir: string;
  port: number;
}

export async function startPgBackRest(exec: Exec, root: string, owner: Owner, source: SourceCluster, compressType: string): Promise<PgBackRest> {
  const dir = join(root, 'pgbackrest');
  for (const sub of ['', 'log', 'lock', 'spool-push', 'tls', 'azurite']) await makeOwnedDir(join(dir, sub), owner);
  const cert = join(dir, 'tls', 'cert.pem');
  const key = join(dir, 'tls', 'key.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const azurite = await startAzurite(join(dir, 'azurite'), undefined, { https: { cert, key } });
  // pgBackRest does not create its container. The SDK trusts the self-signed certificate only
  // through NODE_EXTRA_CA_CERTS, read at process start: a short child process creates it.
  await execa(process.execPath, ['--input-type=module', '-e', `import { BlobServiceClient } from '@azure/storage-blob'; await BlobServiceClient.fromConnectionString(process.env.CS).getContainerClient('${CONTAINER}').createIfNotExists();`], {
    env: { CS: azurite.connectionString, NODE_EXTRA_CA_CERTS: cert },
  });

  const global = (extra: Record<string, string>) =>
    Object.entries({
      'repo1-type': 'azure',
      'repo1-path': '/repo',
      'repo1-azure-account': AZURITE_ACCOUNT,
      'repo1-azure-key': AZURITE_KEY,
      'repo1-azure-container': CONTAINER,
      'repo1-azure-uri-style': 'path',
      'repo1-storage-host': '127.0.0.1',
      'repo1-storage-port': String(azurite.port),
      'repo1-storage-verify-tls': 'n',
      'repo1-retention-full': '9',
      'log-path': join(dir, 'log'),
      'lock-path': join(dir, 'lock'),
      'log-level-console': 'warn',
      'log-level-file': 'info',
      'compress-type': compressType,
      'process-max': '2',
      ...extra,
    })
      .map(([name, value]) => `${name}=${value}\n`)
      .join('');
  const writeConfig = async (name: string, extra: Record<string, string>, pg1: Record<string, string>) => {
    const path = join(dir, `${name}.conf`);
    const stanza = Object.entries(pg1).map(([option, value]) => `${option}=${value}\n`).join('');
    await writeOwnedFile(path, `[global]\n${global(extra)}\n[${STANZA}]\n${stanza}`, owner, 0o600);
    return path;
  };
  const sourceConfig = await writeConfig('source', { 'archive-async': 'y', 'spool-path': join(dir, 'spool-push'), 'start-fast': 'y' }, {
    'pg1-path': source.dataDir,
    'pg1-socket-path': source.socketDir,
    'pg1-port': String(source.port),
  });
  const run = async (config: string, args: string[], timeoutMs = 1_800_000) =>
    (await exec.run('pgbackrest', [`--config=${config}`, `--stanza=${STANZA}`, ...args], { asUser: 'postgres', timeoutMs })).stdout;
  return {
    azurite,
    sourceConfig,
    archivePushCommand: `pgbackrest --config=${shellQuote(sourceConfig)} --stanza=${STANZA} archive-push "%p"`,
    run,
    async restoreConfig(name, dataDir) {
      const spool = join(dir, `spool-${name}`);
      await makeOwnedDir(spool, owner);
      return writeConfig(`restore-${name}`, { 'archive-async': 'y', 'spool-path': spool }, { 'pg1-path': dataDir });
    },
  };
}
