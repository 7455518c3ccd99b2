/** `recover --version`: package.json's version, and what the bundle was built from (scripts/build.mjs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { versionText } from '../../../src/cli/version.js';
import { runCli } from '../../support/run-cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

describe('recover --version', () => {
  it.each([
    [null, `${pkg.name} ${pkg.version} (from source)`],
    [{ commit: '52425f3a1b2c', builtAt: '2025-01-15T14:29:59Z' }, `${pkg.name} ${pkg.version} (commit 52425f3a1b2c, built 2025-01-15T14:29:59Z)`],
    [{ commit: null, builtAt: '2025-01-15T14:29:59Z' }, `${pkg.name} ${pkg.version} (built 2025-01-15T14:29:59Z)`],
  ])('%j', (build, text) => {
    expect(versionText(build)).toBe(text);
  });

  it.each([['--version'], ['-V']])('%s prints it on stdout, exit 0, with nothing configured', async (flag) => {
    expect(await runCli([flag], {})).toEqual({ code: 0, stdout: `${pkg.name} ${pkg.version} (from source)\n`, stderr: '' });
  });
});
