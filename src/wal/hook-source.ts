/**
 * The hook PostgreSQL runs as archive_command / restore_command. It is plain JavaScript with
 * no imports beyond node's own, written out as one file into a directory the postgres OS user
 * can read (the checkout may live where postgres cannot enter). It forwards the request to
 * the long-lived WAL agent over a Unix socket and maps the reply to an exit code:
 *   push:  0 archived, 1 anything else (PostgreSQL retries later)
 *   fetch: 0 restored, 1 not in the archive, 126 storage/agent failure (aborts recovery, so an
 *          outage never looks like the end of WAL).
 * A push the agent does not answer (no socket, refused, no connection within 5 s, closed or
 * silent for 10 min without a reply) falls back, when the agent wrote a fallback into the
 * hook, to the standalone `recover wal-push PATH NAME` (the same checked, idempotent upload),
 * with RECOVER_ENV_FILE pointing at its settings, and says so in PostgreSQL's log. Otherwise
 * archiving would stop while the agent is down, and pg_wal fill until the disk is full.
 */
export interface HookFallback {
  /** How to run the recover CLI: [node, script] or [executable]; `wal-push PATH NAME` is appended. */
  argv: string[];
  /** The settings file that command reads (RECOVER_ENV_FILE); absent: the server's environment. */
  envFile?: string;
}

export function walHookSource(fallback?: HookFallback): string {
  return WAL_HOOK_SOURCE.replace('const FALLBACK = null;', `const FALLBACK = ${JSON.stringify(fallback ?? null)};`);
}

/** The hook without a fallback (restores' own agents, tests): a push the agent does not answer fails and PostgreSQL retries. */
export const WAL_HOOK_SOURCE = `#!/usr/bin/env node
// recover-bot WAL hook (generated; see src/wal/hook-source.ts)
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';

const FALLBACK = null;

const [op, socketPath, a, b] = process.argv.slice(2);
const failCode = op === 'fetch' ? 126 : 1;
if (!socketPath || !a || !b || (op !== 'push' && op !== 'fetch')) {
  process.stderr.write('usage: wal-hook.mjs push SOCKET PATH NAME | fetch SOCKET NAME DEST\\n');
  process.exit(failCode);
}
const request = op === 'push' ? { op, path: resolve(a), name: b } : { op, name: a, dest: resolve(b) };
const socket = connect(socketPath);
let buffer = '';
let done = false;
const finish = (code, message) => {
  if (done) return;
  done = true;
  clearTimeout(timer);
  if (message) process.stderr.write('recover-bot wal ' + op + ' ' + (request.name) + ': ' + message + '\\n');
  socket.destroy();
  process.exit(code);
};
// The agent did not answer: a push goes straight to storage through the CLI instead.
const unanswered = (why) => {
  if (done) return;
  if (op !== 'push' || !FALLBACK) return finish(failCode, why);
  done = true;
  clearTimeout(timer);
  socket.destroy();
  const [command, ...args] = FALLBACK.argv;
  process.stderr.write('recover-bot wal push ' + request.name + ': ' + why + '; falling back to a direct push (' + FALLBACK.argv.join(' ') + ' wal-push)\\n');
  const env = FALLBACK.envFile ? { ...process.env, RECOVER_ENV_FILE: FALLBACK.envFile } : process.env;
  const child = spawn(command, [...args, 'wal-push', request.path, request.name], { stdio: ['ignore', 'inherit', 'inherit'], env });
  child.on('error', (error) => {
    process.stderr.write('recover-bot wal push ' + request.name + ': direct push could not start: ' + error.message + '\\n');
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    const ok = code === 0;
    process.stderr.write('recover-bot wal push ' + request.name + ': direct push ' + (ok ? 'archived it' : 'failed (' + (signal ?? 'exit ' + code) + '); PostgreSQL retries') + '\\n');
    process.exit(ok ? 0 : 1);
  });
};
// Only a push waits for an answer with a limit (a fetch keeps its exit codes as they were).
let timer;
const limit = (ms, why) => { clearTimeout(timer); if (op === 'push') timer = setTimeout(() => unanswered(why), ms); };
limit(5000, 'WAL agent did not accept a connection within 5 s');
socket.setEncoding('utf8');
socket.on('connect', () => {
  limit(600000, 'WAL agent gave no reply within 10 min');
  socket.write(JSON.stringify(request) + '\\n');
});
socket.on('data', (chunk) => {
  buffer += chunk;
  const end = buffer.indexOf('\\n');
  if (end < 0) return;
  let reply;
  try { reply = JSON.parse(buffer.slice(0, end)); } catch { return finish(failCode, 'unreadable reply from WAL agent'); }
  if (reply.ok) return finish(0);
  if (reply.status === 'missing') return finish(1, op === 'fetch' ? '' : reply.message);
  finish(failCode, reply.message);
});
socket.on('error', (error) => unanswered('WAL agent unreachable at ' + socketPath + ' (' + error.message + ')'));
socket.on('close', () => unanswered('WAL agent closed the connection without a reply'));
`;
