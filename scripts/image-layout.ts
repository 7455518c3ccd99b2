/**
 * npm run image:layout [-- --keep]: the container image's /app, built and started without
 * Docker (no engine runs here). It replays the Dockerfile (devkit/dockerfile.ts reads it): the
 * build stage's COPY lines from a context filtered by .dockerignore and its RUN lines (npm ci,
 * npm run build, npm prune --omit=dev) in a temporary directory, then the final stage's
 * `COPY --from=build` lines into another; the final stage's RUN (apt-get, the `recover` user)
 * is the host's business and skipped. Then, as the image's USER (uid 10001, when run as root)
 * and through its ENTRYPOINT (tini when the host has /usr/bin/tini):
 *   1. `recover --help` exits 0;
 *   2. `recover bot` over HTTP against the Slack stand-in and a throwaway control database on
 *      127.0.0.1:5432 starts, the image's own HEALTHCHECK command passes, /readyz is 200, a
 *      signed `/recover help` is answered, and SIGTERM stops it with exit 0.
 * Slow (npm ci: about a minute), so not part of `npm test`; test/unit/devkit/dockerfile.test.ts
 * checks the Dockerfile's paths there. Exit 1 when a check fails.
 */
import { once } from 'node:events';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { startSlackStandIn } from '../devkit/slack-standin/index.js';
import { argv, copyParts, envPairs, isIgnored, last, parseDockerfile, parseDockerignore, type Stage } from '../devkit/dockerfile.js';
import { freePort } from '../src/engine/local-cluster.js';
import { targetClient } from '../src/engine/pg-client.js';

const ROOT = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const started = Date.now();
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const say = (line: string): void => void process.stdout.write(`image-layout: ${line}\n`);
const cleanups: Array<() => Promise<unknown>> = [];

/** A stage's filesystem: the image path `/app/x` is `<root>/app/x`. */
function inStage(root: string, cwd: string, path: string): string {
  return join(root, posix.resolve(cwd, path));
}

async function copy(from: string, to: string, filter?: (source: string) => boolean): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  // Between stages GNU cp -a (node_modules: fs.cp takes several times as long); symlinks kept as they are, like COPY.
  if (filter) await cp(from, to, { recursive: true, verbatimSymlinks: true, filter });
  else await execa('cp', ['-a', from, to]);
}

/** COPY: a directory's contents go into dest; a file into dest/ (or to dest itself). */
async function runCopy(sources: string[], dest: string, resolveSource: (s: string) => string, target: (p: string) => string, filter?: (source: string) => boolean): Promise<void> {
  for (const source of sources) {
    const from = resolveSource(source);
    const isDir = (await stat(from)).isDirectory();
    const to = isDir || (!dest.endsWith('/') && sources.length === 1) ? target(dest) : target(posix.join(dest, basename(source)));
    await copy(from, to, filter);
  }
}

async function replay(stage: Stage, root: string, stages: Map<string, string>, env: Record<string, string>): Promise<void> {
  const rules = parseDockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8'));
  const inContext = (source: string): boolean => relative(ROOT, source) === '' || !isIgnored(relative(ROOT, source), rules);
  let cwd = '/';
  for (const instruction of stage.instructions) {
    const t0 = Date.now();
    if (instruction.keyword === 'WORKDIR') {
      cwd = posix.resolve(cwd, instruction.rest);
      await mkdir(inStage(root, '/', cwd), { recursive: true });
    } else if (instruction.keyword === 'ENV') {
      Object.assign(env, envPairs(instruction));
    } else if (instruction.keyword === 'COPY') {
      const { from, sources, dest } = copyParts(instruction);
      const fromRoot = from ? stages.get(from) : undefined;
      if (from && !fromRoot) throw new Error(`Dockerfile line ${instruction.line}: no stage named ${from}`);
      const resolveSource = (s: string): string => (fromRoot ? inStage(fromRoot, '/', s) : join(ROOT, s));
      await runCopy(sources, dest, resolveSource, (p) => inStage(root, cwd, p), fromRoot ? undefined : inContext);
      say(`COPY ${instruction.args} (${seconds(t0)})`);
    } else if (instruction.keyword === 'RUN') {
      if (stage !== firstStage) {
        say(`RUN skipped (system packages and users: this host's own): ${instruction.rest.slice(0, 70)}…`);
        continue;
      }
      await execa('sh', ['-c', instruction.rest], { cwd: inStage(root, '/', cwd), env, extendEnv: false, stdio: ['ignore', 'inherit', 'inherit'] });
      say(`RUN ${instruction.rest} (${seconds(t0)})`);
    }
  }
}

const dockerfile = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
const firstStage = dockerfile[0]!;
const final = dockerfile.at(-1)!;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'recover-image-'));
  await chmod(work, 0o755); // the image's user must reach /app
  if (!keep) cleanups.push(() => rm(work, { recursive: true, force: true }));
  const stageRoots = new Map<string, string>();
  const imageEnv: Record<string, string> = {};
  for (const [index, stage] of dockerfile.entries()) {
    const root = join(work, stage.name ?? `stage-${index}`);
    await mkdir(root, { recursive: true });
    // The build stage gets this shell's environment (npm's cache, proxy) without NODE_ENV, as in the node image.
    const { NODE_ENV: _nodeEnv, ...hostEnv } = process.env as Record<string, string>;
    const env = stage === final ? imageEnv : hostEnv;
    await replay(stage, root, stageRoots, env);
    if (stage.name) stageRoots.set(stage.name, root);
  }
  const image = join(work, final.name ?? `stage-${dockerfile.length - 1}`);
  const { stdout: size } = await execa('du', ['-sh', join(image, 'app')]);
  say(`layout built in ${seconds(started)}: ${size.split('\t')[0]} in ${join(image, 'app')}`);

  // The image's USER and ENTRYPOINT; image paths mapped into the layout.
  const [uid, gid] = (last(final, 'USER')?.rest ?? '0:0').split(':').map(Number);
  const asUser = process.getuid?.() === 0 ? { uid: uid!, gid: gid ?? uid! } : {};
  const mapPath = (word: string): string => (word.startsWith('/app/') ? join(image, word) : word);
  let entry = argv(last(final, 'ENTRYPOINT')!.rest).words.map(mapPath);
  if (entry[0] === '/usr/bin/tini' && !existsSync('/usr/bin/tini')) {
    say('no /usr/bin/tini on this host: running node without it (the image has it)');
    entry = entry.slice(2);
  }
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...imageEnv };
  const cwd = join(image, 'app');

  const t1 = Date.now();
  const help = await execa(entry[0]!, [...entry.slice(1), '--help'], { env, extendEnv: false, cwd, reject: false, ...asUser });
  if (help.exitCode !== 0 || !/Usage: recover/.test(help.stdout)) throw new Error(`recover --help failed (exit ${help.exitCode}):\n${help.stdout}\n${help.stderr}`);
  say(`recover --help as uid ${uid}: exit 0, "${help.stdout.split('\n')[0]}" (${seconds(t1)})`);

  const t2 = Date.now();
  const database = `recover_image_${process.pid}`;
  const admin = targetClient({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });
  await admin.query(`CREATE DATABASE ${database}`);
  const botToken = 'xoxb-image-layout';
  const signingSecret = 'image-layout-secret';
  const slack = await startSlackStandIn({ botToken, signingSecret, teamId: 'T0IMAGE', users: [{ id: 'U0ALICE', name: 'alice', realName: 'Alice' }], channels: [{ id: 'C0INC', name: 'inc-image' }] });
  cleanups.push(() => slack.close());
  const port = await freePort();
  const bot = execa(entry[0]!, [...entry.slice(1), 'bot'], {
    env: { ...env, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: slack.url, SLACK_PORT: String(port), RECOVER_HEALTH_PORT: String(port), RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${database}`, RECOVER_PRODUCTION_NAME: 'image_check' },
    extendEnv: false, cwd, reject: false, detached: true, ...asUser,
  });
  // Its own process group: tini killed with SIGKILL would leave node running (and this script waiting for its output).
  cleanups.push(async () => {
    if (bot.exitCode !== undefined && bot.exitCode !== null) return;
    process.kill(-bot.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-bot.pid!, 'SIGKILL'), 10_000);
    await bot;
    clearTimeout(timer);
  });
  let output = '';
  bot.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  bot.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await Promise.race([
    (async () => {
      while (!output.includes('listening on port')) await once(bot.stdout!, 'data');
    })(),
    bot.then((result) => Promise.reject(new Error(`recover bot exited (${result.exitCode}) before listening:\n${output}`))),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`recover bot did not listen within 60 s:\n${output}`)), 60_000).unref()),
  ]);
  say(`recover bot listening on ${port} (${seconds(t2)})`);

  const check = argv(last(final, 'HEALTHCHECK')!.rest.replace(/^CMD\s+/, '')).words;
  const healthcheck = await execa(check[0]!, check.slice(1), { env: { ...env, RECOVER_HEALTH_PORT: String(port) }, extendEnv: false, reject: false, ...asUser });
  if (healthcheck.exitCode !== 0) throw new Error(`the image's HEALTHCHECK failed (exit ${healthcheck.exitCode}): ${healthcheck.stderr}`);
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  const readyBody = await ready.text();
  if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status}: ${readyBody}`);
  say(`HEALTHCHECK (GET /healthz) exit 0; GET /readyz ${ready.status} ${readyBody}`);

  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
  const answer = await slack.slashCommand({ user: 'U0ALICE', channel: 'C0INC', text: 'help' });
  if (answer.status !== 200) throw new Error(`/recover help answered ${answer.status}`);
  await slack.transcript.waitFor(() => slack.transcript.ephemerals('C0INC', 'U0ALICE')[0]);
  say('/recover help over signed HTTP: acked 200, help posted');

  bot.kill('SIGTERM');
  const stopped = await bot;
  if (stopped.exitCode !== 0) throw new Error(`recover bot exited ${stopped.exitCode} on SIGTERM:\n${output}`);
  say(`SIGTERM: recover bot exited 0. All checks passed in ${seconds(started)}${keep ? `; layout kept in ${work}` : ''}`);
}

try {
  await main();
} catch (error) {
  say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
