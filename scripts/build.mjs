// Bundles the CLI into one ESM file; npm packages stay external (resolved from node_modules).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/recover.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
