// Preloaded into the recover CLI by bench/peer.ts (node --import): on exit, writes the CLI
// process's own peak resident set (getrusage ru_maxrss, KiB; its child tools not included)
// to $PEER_MAX_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.PEER_MAX_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
