/** Starts Azurite (blob only) on a free port for tests, the demo and benchmarks. */
import { execa, type ResultPromise } from 'execa';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { freePort } from '../src/engine/local-cluster.js';

// Azurite's published development account; not a secret.
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

function azuriteBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
}

// A generous deadline because Azurite's start (loading its modules) takes seconds on a loaded
// machine; a child that exits (the port taken, a bad flag) fails at once instead of waiting it out.
async function waitForPort(port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`Azurite exited before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Azurite did not listen on ${port} within ${timeoutMs} ms`);
}

export function azuriteConnectionString(port: number, protocol: 'http' | 'https' = 'http'): string {
  return `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${protocol}://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
}

/** `https`: serve TLS with this certificate and key (PEM files), e.g. for tools that refuse plain http. */
export async function startAzurite(location: string, port?: number, options: { https?: { cert: string; key: string } } = {}): Promise<AzuriteHandle> {
  const chosen = port ?? (await freePort());
  await mkdir(location, { recursive: true });
  const child: ResultPromise = execa(
    process.execPath,
    [azuriteBin(), '--silent', '--disableTelemetry', '--location', location, '--blobHost', '127.0.0.1', '--blobPort', String(chosen), '--skipApiVersionCheck', '--loose', ...(options.https ? ['--cert', options.https.cert, '--key', options.https.key] : [])],
    { stdio: 'ignore', reject: false },
  );
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  await waitForPort(chosen, 60_000, () => exited);
  return {
    port: chosen,
    connectionString: azuriteConnectionString(chosen, options.https ? 'https' : 'http'),
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
