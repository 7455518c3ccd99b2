/**
 * The hook PostgreSQL runs as archive_command / restore_command. It is plain JavaScript with
 * no imports beyond node's own, written out as one file into a directory the postgres OS user
 * can read (the checkout may live where postgres cannot enter). It forwards the request to
 * the long-lived WAL agent over a Unix socket and maps the reply to an exit code:
 *   push:  0 archived, 1 anything else (PostgreSQL retries later)
 *   fetch: 0 restored, 1 not in the archive, 126 storage/agent failure (aborts recovery, so an
 *          outage never looks like the end of WAL).
 */
export const WAL_HOOK_SOURCE = `#!/usr/bin/env node
// recover-bot WAL hook (generated; see src/wal/hook-source.ts)
import { connect } from 'node:net';
import { resolve } from 'node:path';

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
  if (message) process.stderr.write('recover-bot wal ' + op + ' ' + (request.name) + ': ' + message + '\\n');
  socket.destroy();
  process.exit(code);
};
socket.setEncoding('utf8');
socket.on('connect', () => socket.write(JSON.stringify(request) + '\\n'));
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
socket.on('error', (error) => finish(failCode, 'WAL agent unreachable at ' + socketPath + ': ' + error.message));
socket.on('close', () => finish(failCode, 'WAL agent closed the connection without a reply'));
`;
