/** Process entry point: the only place that touches process.argv, process.env and exit. */
import { main } from './main.js';

// stdin only on demand (a destructive plan's prompt): the hooks PostgreSQL runs per WAL file never touch it.
const io = { env: process.env, stdout: process.stdout, stderr: process.stderr, get stdin() { return process.stdin; } };
const code = await main(process.argv.slice(2), io);
process.exitCode = code;
