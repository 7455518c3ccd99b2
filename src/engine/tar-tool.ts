/**
 * Which tar extracts base backups. libarchive's bsdtar unpacks zstd, LZ4 and gzip in its own
 * process and extracts a zstd part in about half the time of GNU tar, whose decompressor is a
 * second process piping every byte to it (pg-args.ts, tarExtractArgs, has the numbers). It is
 * optional: RECOVER_TAR=auto (the default) uses it when `bsdtar` runs, else GNU tar.
 */
import type { EngineContext, PgToolConfig } from './context.js';
import type { TarTool } from './pg-args.js';

export async function resolveTarTool(ctx: Pick<EngineContext, 'exec' | 'log' | 'signal'>, tools: Pick<PgToolConfig, 'tar'>): Promise<TarTool> {
  const choice = tools.tar ?? 'auto';
  if (choice !== 'auto') return choice;
  try {
    await ctx.exec.run('bsdtar', ['--version'], { signal: ctx.signal, timeoutMs: 10_000 });
    return 'bsdtar';
  } catch (error) {
    ctx.signal.throwIfAborted();
    // Not installed (or not runnable): GNU tar does the same job, more slowly.
    ctx.log.info({ err: error }, 'bsdtar is not available; base backups are extracted with GNU tar (install libarchive-tools for faster restores)');
    return 'gnu';
  }
}
