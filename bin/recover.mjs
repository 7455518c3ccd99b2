#!/usr/bin/env node
// Runs the bundled CLI (npm run build writes dist/recover.mjs).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/recover.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('recover: dist/recover.mjs is missing; run `npm run build` first.\n');
  process.exit(126);
}
await import(bundle.href);
