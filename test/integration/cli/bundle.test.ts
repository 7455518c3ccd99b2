/**
 * The bundled CLI loads only what a command needs: Bolt and the Slack layer are a chunk of
 * their own that `recover bot` imports on demand (scripts/build.mjs), so `recover pitr` and
 * every other command start without them (~130 ms less). Also checks that the chunk still
 * loads from the bundle: `recover bot` reaches its control-DB check and reports it.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../src/engine/local-cluster.js';
import { runBundledCli } from '../../support/run-bundled-cli.js';

describe('the bundled CLI', () => {
  it('does not import Bolt in its main file', async () => {
    const main = await readFile('dist/recover.mjs', 'utf8');
    expect(main).not.toMatch(/from "@slack\//);
    expect(main).toContain('import("./chunks/slack-');
  });

  it('says its version and what it was built from (no git needed where it runs)', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { code, stdout } = await runBundledCli(['--version'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^recover-bot ${version.replace(/\./g, '\\.')} \\((commit [0-9a-f]{7,40}, )?built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)$`));
  });

  it('loads the Slack chunk for `recover bot`', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runBundledCli(['bot'], {
      RECOVER_PRODUCTION_NAME: 'prod',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      RECOVER_CONTROL_URL: `postgres://recover@127.0.0.1:${port}/recover`,
    });
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening');
    expect(stderr).toMatch(/could not open 1 connection to its control DB at start-up \(.*ECONNREFUSED/);
  });
});
