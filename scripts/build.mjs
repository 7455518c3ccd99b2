// Bundles the CLI into dist/recover.mjs (and chunks for what loads on demand); npm packages
// stay external (resolved from node_modules).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/** What `recover --version` says it was built from (src/cli/version.ts); a build without git has no commit. */
function buildInfo() {
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    // not a git checkout (a source tarball, a container build context): the version and time still say enough
  }
  return { commit, builtAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

rmSync('dist', { recursive: true, force: true }); // no chunk of an earlier build left behind

await build({
  entryPoints: { recover: 'src/cli/entry.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // Dynamic imports (the Slack layer, only `recover bot` needs it) become chunks of their own,
  // so their npm packages load only when used.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  define: { __RECOVER_BUILD__: JSON.stringify(buildInfo()) },
});
