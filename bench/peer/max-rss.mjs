// Preloaded into the recover CLI by bench/peer.ts (node --import): on exit, writes the CLI
// process's own peak resident set (KiB; its child tools not included) to $PEER_MAX_RSS_FILE.
// VmHWM from /proc/self/status, not getrusage's ru_maxrss: the kernel carries ru_maxrss over
// fork and execve, so a CLI started by a large bench process reported the bench's own peak
// (463 MiB for a backup whose own peak was ~190 MiB). VmHWM belongs to the new program image.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.PEER_MAX_RSS_FILE;
const ownPeakKib = () => {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : process.resourceUsage().maxRSS;
};
if (file) process.on('exit', () => writeFileSync(file, String(ownPeakKib())));
