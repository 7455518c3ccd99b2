/**
 * Private channels: a slash command names them `privategroup`, so their real name is asked of
 * Slack (conversations.info) before RECOVER_ALLOWED_CHANNELS' name patterns are checked, and
 * remembered for a while; direct messages and group DMs never match by name.
 */
import { describe, expect, it } from 'vitest';
import { channelFacts, ChannelNames } from '../../../src/slack/io/channel-names.js';
import { needsNameLookup } from '../../../src/slack/listeners/guards.js';

describe('needsNameLookup', () => {
  it.each([
    [{ id: 'C1', name: 'privategroup' }, ['inc-*'], true],
    [{ id: 'G1', name: 'privategroup' }, ['inc-*'], true],
    [{ id: 'C1', name: '' }, ['inc-*'], true],
    [{ id: 'C1', name: 'inc-db' }, ['inc-*'], false],
    [{ id: 'C1', name: 'privategroup' }, ['C1', 'inc-*'], false],
    [{ id: 'C1', name: 'privategroup' }, ['C2'], false],
    [{ id: 'D1', name: 'directmessage' }, ['*'], false],
    [{ id: 'D1', name: '' }, ['*'], false],
    [{ id: 'C1', name: 'privategroup' }, [], false],
  ])('%o with %o → %s', (channel, patterns, needed) => {
    expect(needsNameLookup(channel, patterns)).toBe(needed);
  });
});

describe('channelFacts', () => {
  it('names channels, never direct messages or group DMs', () => {
    expect(channelFacts({ name: 'inc-secret' })).toEqual({ name: 'inc-secret' });
    expect(channelFacts({ name: 'mpdm-alice--bob-1', is_mpim: true })).toEqual({ name: undefined });
    expect(channelFacts({ is_im: true })).toEqual({ name: undefined });
    expect(channelFacts(undefined)).toEqual({ name: undefined });
  });
});

describe('ChannelNames', () => {
  it('asks once per channel within the TTL (concurrent asks share one call), again after it', async () => {
    let now = 0;
    const asked: string[] = [];
    const names = new ChannelNames(async (id) => {
      asked.push(id);
      return { name: `name-of-${id}` };
    }, () => now, 1000);
    const [a, b] = await Promise.all([names.facts('C1'), names.facts('C1')]);
    expect([a.name, b.name]).toEqual(['name-of-C1', 'name-of-C1']);
    await names.facts('C1');
    expect(asked).toEqual(['C1']);
    now = 1001;
    await names.facts('C1');
    expect(asked).toEqual(['C1', 'C1']);
  });

  it('does not keep a failed look-up: inviting the bot works at once', async () => {
    let member = false;
    const names = new ChannelNames(async () => {
      if (!member) throw Object.assign(new Error('An API error occurred: channel_not_found'), { code: 'slack_webapi_platform_error', data: { error: 'channel_not_found' } });
      return { name: 'inc-hidden' };
    });
    await expect(names.facts('C9')).rejects.toThrow('channel_not_found');
    member = true;
    await expect(names.facts('C9')).resolves.toEqual({ name: 'inc-hidden' });
  });
});
