/**
 * The Dockerfile, checked without a Docker engine: every path it copies exists (and is not
 * left out by .dockerignore), the bundle is built only from copied files, the final stage
 * copies what the build stage made, the host's node_modules / dist / .git never reach the
 * build, the bot runs as a non-root user under tini, and the HEALTHCHECK asks a route the
 * receiver answers on the port the image exposes. scripts/image-layout.ts builds and starts
 * the same layout (slow: npm ci; run by hand).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { argv, copyParts, envPairs, isIgnored, last, parseDockerfile, parseDockerignore, type Stage } from '../../../devkit/dockerfile.js';
import { loadConfig } from '../../../src/config.js';
import { isHealthRequest, LIVE_PATH } from '../../../src/util/health.js';

const ROOT = join(import.meta.dirname, '../../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const stages = parseDockerfile(read('Dockerfile'));
const rules = parseDockerignore(read('.dockerignore'));
const buildStage = stages[0]!;
const final = stages.at(-1)!;

function workdir(stage: Stage): string {
  return last(stage, 'WORKDIR')!.rest;
}

/** Context paths the build stage copies, as repository-relative paths. */
function contextSources(): string[] {
  return buildStage.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyParts(i).sources.map((s) => posix.normalize(s)));
}

/** What the final stage's RUN lines install with apt-get. */
function aptPackages(): string[] {
  const runs = final.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
  return runs.flatMap((run) => [...run.matchAll(/apt-get install ([^&]+)/g)].flatMap((m) => m[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-'))));
}

describe('Dockerfile', () => {
  it('has a named build stage and a final stage from the same base', () => {
    expect(stages).toHaveLength(2);
    expect(buildStage.name).toBe('build');
    expect(final.image).toBe(buildStage.image);
  });

  it('copies into the build only paths that exist and .dockerignore lets through', () => {
    const sources = contextSources();
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(isIgnored(source, rules), `${source} is in the build context`).toBe(false);
    }
    // The build script it runs is one of them.
    expect(JSON.parse(read('package.json')).scripts.build).toBe('node scripts/build.mjs');
    expect(sources).toContain('scripts/build.mjs');
  });

  it('builds the bundle only from copied files', async () => {
    const result = await build({ entryPoints: ['src/cli/entry.ts'], absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'esm', packages: 'external', splitting: true, outdir: 'dist-check', write: false, metafile: true, logLevel: 'silent' });
    const copied = contextSources();
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(50);
    const outside = inputs.filter((input) => !copied.some((source) => input === source || input.startsWith(`${source.replace(/\/$/, '')}/`)));
    expect(outside).toEqual([]);
  });

  it('leaves the host node_modules, dist and .git out of the build context', () => {
    for (const path of ['node_modules', 'node_modules/pg/package.json', 'src/node_modules/x', 'dist/recover.mjs', '.git/HEAD', 'test/unit/x.test.ts']) {
      expect(isIgnored(path, rules), path).toBe(true);
    }
  });

  it('copies into the final stage only what the build stage has: its copies, npm ci\'s node_modules, the build\'s dist', () => {
    const dir = workdir(buildStage);
    const made = new Set(contextSources().map((s) => posix.join(dir, s.split('/')[0]!)));
    const runs = buildStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest).join(' && ');
    if (runs.includes('npm ci')) made.add(posix.join(dir, 'node_modules'));
    if (runs.includes('npm run build') && read('scripts/build.mjs').includes("outdir: 'dist'")) made.add(posix.join(dir, 'dist'));
    expect(runs).toContain('npm prune --omit=dev');
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map(copyParts);
    expect(copies.map((c) => c.from)).toEqual(copies.map(() => 'build'));
    expect(copies.flatMap((c) => c.sources).sort()).toEqual(['/app/bin', '/app/dist', '/app/node_modules', '/app/package.json']);
    for (const source of copies.flatMap((c) => c.sources)) expect(made.has(source), source).toBe(true);
  });

  it('starts the CLI the final stage copied, under tini', () => {
    const entry = argv(last(final, 'ENTRYPOINT')!.rest);
    expect(entry.exec).toBe(true);
    expect(entry.words.slice(0, 3)).toEqual(['/usr/bin/tini', '--', 'node']);
    expect(entry.words[3]).toBe(posix.join(workdir(final), 'bin/recover.mjs'));
    expect(read('bin/recover.mjs')).toContain("'../dist/recover.mjs'");
    expect(aptPackages()).toContain('tini');
  });

  it('runs as a numeric non-root user that it creates', () => {
    const user = last(final, 'USER')!.rest;
    const uid = user.split(':')[0]!;
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const runs = final.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest).join(' ');
    expect(runs).toContain(`useradd --system --uid ${uid} `);
    // USER comes after every RUN (which need root for apt-get).
    const index = final.instructions.indexOf(last(final, 'USER')!);
    expect(final.instructions.slice(index).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('exposes the default SLACK_PORT and health port, and health-checks /healthz there', () => {
    const env = Object.assign({}, ...final.instructions.filter((i) => i.keyword === 'ENV').map(envPairs)) as Record<string, string>;
    const exposed = last(final, 'EXPOSE')!.rest.split(/\s+/);
    expect(exposed).toEqual([String(loadConfig({}).slack.port)]);
    expect(env.RECOVER_HEALTH_PORT).toBe(exposed[0]);
    expect(loadConfig({ RECOVER_HEALTH_PORT: env.RECOVER_HEALTH_PORT }).healthPort).toBe(Number(exposed[0]));
    const check = last(final, 'HEALTHCHECK')!;
    expect(check.flags).toMatchObject({ interval: '30s', timeout: '5s' });
    const command = argv(check.rest.replace(/^CMD\s+/, ''));
    expect(command.exec).toBe(true);
    const script = command.words.at(-1)!;
    const path = /'(\/[a-z]+)'/.exec(script)?.[1];
    expect(path).toBe(LIVE_PATH);
    expect(isHealthRequest('GET', path)).toBe(true);
    expect(script).toContain('process.env.RECOVER_HEALTH_PORT');
  });

  it('creates no PostgreSQL cluster and installs what the runner needs (scripts/test-prereqs.sh)', () => {
    const run = final.instructions.find((i) => i.rest.includes('postgresql-15'))!.rest;
    expect(run.indexOf('create_main_cluster = false')).toBeGreaterThan(-1);
    expect(run.indexOf('create_main_cluster = false')).toBeLessThan(run.indexOf('postgresql-15'));
    expect(run).toContain('test ! -e /var/lib/postgresql/15/main');
    const needed = [...read('scripts/test-prereqs.sh').matchAll(/need_package ([\w.-]+)/g)].map((m) => m[1]!);
    // util-linux (runuser) is Essential: in every Debian image. chromium is for the web view test only.
    const missing = [...new Set(needed)].filter((name) => !['util-linux', 'chromium'].includes(name) && !aptPackages().includes(name));
    expect(missing).toEqual([]);
  });
});
