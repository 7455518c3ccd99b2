/** Which tar extracts base backups: as configured, or bsdtar when it runs (auto). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Exec } from '../../../src/engine/exec.js';
import { resolveTarTool } from '../../../src/engine/tar-tool.js';
import { RecoverError } from '../../../src/errors.js';

const log = pino({ level: 'silent' });
const signal = new AbortController().signal;

/** An exec whose `bsdtar --version` succeeds or fails; records what was run. */
function probeExec(bsdtarRuns: boolean, ran: string[][]): Exec {
  return {
    run: async (file: string, args: string[]) => {
      ran.push([file, ...args]);
      if (!bsdtarRuns) throw Object.assign(new Error('spawn bsdtar ENOENT'), { code: 'ENOENT' });
      return { stdout: 'bsdtar 3.6.2 - libarchive 3.6.2', stderr: '', exitCode: 0 };
    },
  } as unknown as Exec;
}

describe('resolveTarTool', () => {
  it.each([
    ['auto, bsdtar installed', 'auto', true, 'bsdtar', 1],
    ['auto, no bsdtar', 'auto', false, 'gnu', 1],
    ['unset means auto', undefined, true, 'bsdtar', 1],
    ['gnu as configured, without probing', 'gnu', true, 'gnu', 0],
    ['bsdtar as configured and installed', 'bsdtar', true, 'bsdtar', 1],
  ] as const)('%s', async (_name, tar, installed, expected, probes) => {
    const ran: string[][] = [];
    const tool = await resolveTarTool({ exec: probeExec(installed, ran), log, signal }, tar === undefined ? {} : { tar });
    expect(tool).toBe(expected);
    expect(ran).toHaveLength(probes);
    if (probes) expect(ran[0]).toEqual(['bsdtar', '--version']);
  });

  it('bsdtar asked for by name but missing stops the restore at once, saying what to install', async () => {
    const error = await resolveTarTool({ exec: probeExec(false, []), log, signal }, { tar: 'bsdtar' }).then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(RecoverError);
    expect((error as RecoverError).code).toBe('CONFIG_INVALID');
    expect((error as RecoverError).message).toBe('RECOVER_TAR=bsdtar, but bsdtar does not run on this runner (spawn bsdtar ENOENT).');
    expect((error as RecoverError).hint).toContain('apt-get install libarchive-tools');
  });

  it('a cancelled job stops instead of falling back', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(resolveTarTool({ exec: probeExec(false, []), log, signal: controller.signal }, { tar: 'auto' })).rejects.toThrow('cancelled');
  });
});
