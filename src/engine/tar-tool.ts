/**
 * Which tar extracts base backups. libarchive's bsdtar unpacks zstd, LZ4 and gzip in its own
 * process and extracts a zstd part in about half the time of GNU tar, whose decompressor is a
 * second process piping every byte to it (pg-args.ts, tarExtractArgs, has the numbers). It is
 * optional: RECOVER_TAR=auto (the default) uses it when `bsdtar` runs, else GNU tar; asked for
 * by name (RECOVER_TAR=bsdtar) and missing, the restore stops at once saying so.
 */
import { RecoverError } from '../errors.js';
import type { EngineContext, PgToolConfig } from './context.js';
import type { TarTool } from './pg-args.js';

/** Why bsdtar does not run here (`bsdtar --version`), or null when it does. */
export async function bsdtarProblem(ctx: Pick<EngineContext, 'exec' | 'signal'>): Promise<Error | null> {
  try {
    await ctx.exec.run('bsdtar', ['--version'], { signal: ctx.signal, timeoutMs: 10_000 });
    return null;
  } catch (error) {
    ctx.signal.throwIfAborted();
    return error instanceof Error ? error : new Error(String(error));
  }
}

export async function resolveTarTool(ctx: Pick<EngineContext, 'exec' | 'log' | 'signal'>, tools: Pick<PgToolConfig, 'tar'>): Promise<TarTool> {
  const choice = tools.tar ?? 'auto';
  if (choice === 'gnu') return 'gnu';
  const problem = await bsdtarProblem(ctx);
  if (!problem) return 'bsdtar';
  if (choice === 'bsdtar') {
    throw new RecoverError('CONFIG_INVALID', `RECOVER_TAR=bsdtar, but bsdtar does not run on this runner (${problem.message}).`, {
      hint: 'Install libarchive-tools (apt-get install libarchive-tools), or set RECOVER_TAR=auto to extract with GNU tar when bsdtar is missing.',
      cause: problem,
    });
  }
  // Not installed (or not runnable): GNU tar does the same job, more slowly.
  ctx.log.info({ err: problem }, 'bsdtar is not available; base backups are extracted with GNU tar (install libarchive-tools for faster restores)');
  return 'gnu';
}
