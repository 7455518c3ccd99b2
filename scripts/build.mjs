// Bundles the CLI into dist/recover.mjs (and chunks for what loads on demand); npm packages
// stay external (resolved from node_modules).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

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
});
