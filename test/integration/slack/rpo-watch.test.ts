/**
 * The RPO watch end to end, but for production (facts given): two runners' watches race on one
 * control DB and the bot posts to RECOVER_ALERT_CHANNEL one alert when archiving turns bad, one
 * reminder once the last notice is older than the reminder time, one recovery notice when it is
 * ok again, never any of them twice (the racing claims, a restarted bot).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rpoWatch } from '../../../src/runner/rpo/watch.js';
import type { ArchivingFacts } from '../../../src/runner/rpo/state.js';
import { createLogger } from '../../../src/log.js';
import { systemClock } from '../../../src/types.js';
import { until } from '../../support/until.js';
import { GENERAL, startHarness, textOf, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('RPO watch → alert channel', () => {
  it('posts one alert, one reminder and one recovery notice, never twice', async () => {
    h = await startHarness({ env: { RECOVER_ALERT_CHANNEL: GENERAL, RECOVER_RPO_REMINDER_MINUTES: '60' } });
    const harness = h;
    let facts: ArchivingFacts = { production: 'aiagent_prod', exposureSeconds: 3000, archiver: null, currentWal: null };
    const watch = () => rpoWatch({ config: harness.config, control: harness.pool, storage: null as never, clock: systemClock, log: createLogger('silent'), readFacts: async () => facts });
    const [a, b] = [watch(), watch()];
    const race = async () => (await Promise.all([a.check(), b.check()])).filter((kind) => kind !== null);
    const posted = () => harness.slack.transcript.messages(GENERAL).filter((m) => /RPO watch/.test(textOf(m)));
    const waitPosted = (n: number) => until(`${n} RPO watch messages`, async () => (posted().length >= n ? posted() : undefined), 10_000);

    expect(await race()).toEqual(['alert']);
    expect(textOf((await waitPosted(1))[0])).toMatch(/aiagent_prod.*past its RPO[\s\S]*50 min old[\s\S]*\/recover preflight/);
    expect(await race()).toEqual([]); // still bad, reminder not due

    // An hour later (by the control DB's record): one reminder.
    await harness.pool.query("UPDATE rpo_alerts SET last_notice_at = now() - interval '61 minutes'");
    expect(await race()).toEqual(['reminder']);
    expect(textOf((await waitPosted(2))[1])).toMatch(/reminder: \*?aiagent_prod\*? is still past its RPO/);

    facts = { ...facts, exposureSeconds: 30 };
    expect(await race()).toEqual(['recovered']);
    expect(textOf((await waitPosted(3))[2])).toMatch(/back within the RPO/);
    expect(await race()).toEqual([]);

    // Posted once each, and a restarted bot posts none of them again.
    await until('the notices saved as posted', async () => {
      const { rows } = await harness.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM slack_posts WHERE key LIKE 'rpo:%' AND ts IS NOT NULL");
      return rows[0]!.n === 3 ? true : undefined;
    }, 10_000);
    await harness.restartBot();
    // A notice written after the restart shows the new bot has looked: the three before stay posted once.
    await harness.pool.query("INSERT INTO rpo_notices (pool, production, kind, text) VALUES ('default', 'aiagent_prod', 'alert', 'RPO watch: after the restart')");
    await waitPosted(4);
    const texts = posted().map(textOf);
    expect(texts).toHaveLength(4);
    [/RPO watch: \*?aiagent_prod/, /reminder/, /back within/, /after the restart/].forEach((pattern, i) => expect(texts[i]).toMatch(pattern));
  });
});
