/** Process entry point: the only place that touches process.argv, process.env and exit. */
import { main } from './main.js';

const code = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
