import { LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { ApprovalConfig, SlackConfig } from '../../../src/config.js';
import { policyStamp } from '../../../src/control/index.js';
import { isRecoverError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { FastAckReceiver } from '../../../src/slack/io/fast-ack-receiver.js';
import { appOptions, postingClientOptions, RETRY_CONFIG } from '../../../src/slack/app-options.js';
import { ApproverDirectory, requiredApprovals } from '../../../src/slack/flows/approvers.js';
import { mrkdwn } from '../../../src/slack/views/common.js';
import { globToRegExp, isChannelAllowed, RecentKeys, requestKey } from '../../../src/slack/listeners/guards.js';
import { isPermanentSlackError, rateLimitSeconds, slackErrorCode, slackFailure, withRateLimitRetry } from '../../../src/slack/io/slack-errors.js';
import type { Plan } from '../../../src/types.js';

describe('allowed channels', () => {
  it.each([
    [{ id: 'C1', name: 'inc-db-outage' }, ['inc-*'], true],
    [{ id: 'C1', name: 'INC-DB' }, ['inc-*'], true],
    [{ id: 'C1', name: 'incident' }, ['inc-*'], false],
    [{ id: 'C1', name: 'general' }, ['inc-*', 'C1'], true],
    [{ id: 'C2', name: 'general' }, ['inc-*', 'C1'], false],
    [{ id: 'C1', name: 'inc-a.b' }, ['inc-a.b'], true],
    [{ id: 'C1', name: 'inc-axb' }, ['inc-a.b'], false],
    [{ id: 'C1', name: 'ops-1' }, ['#ops-?'], true],
    [{ id: 'D1', name: 'directmessage' }, ['*'], false],
    [{ id: 'C1', name: 'anything' }, [], false],
  ])('%o with %o → %s', (channel, patterns, allowed) => {
    expect(isChannelAllowed(channel, patterns)).toBe(allowed);
  });

  it('escapes regex characters in patterns', () => {
    expect(globToRegExp('a+(b)*').test('a+(b)zzz')).toBe(true);
    expect(globToRegExp('a+(b)*').test('aa(b)')).toBe(false);
  });
});

describe('replay protection', () => {
  it('remembers keys for a while, bounded', () => {
    let now = 0;
    const keys = new RecentKeys(() => now, 1000, 3);
    expect(keys.firstTime('a')).toBe(true);
    expect(keys.firstTime('a')).toBe(false);
    now = 1001;
    expect(keys.firstTime('a')).toBe(true);
    for (const k of ['b', 'c', 'd', 'e']) keys.firstTime(k);
    expect(keys.size).toBe(3);
    expect(keys.firstTime('e')).toBe(false);
    expect(keys.firstTime('b')).toBe(true);
  });

  it('keys requests by trigger_id', () => {
    expect(requestKey({ trigger_id: '1.2.abc' })).toBe('trigger:1.2.abc');
    expect(requestKey({})).toBeUndefined();
    expect(requestKey(null)).toBeUndefined();
  });
});

describe('Bolt options', () => {
  const log = createLogger('silent');
  const slack: SlackConfig = { botToken: 'xoxb-1', signingSecret: 's', socketMode: false, port: 0, allowedChannels: [], apiUrl: 'http://127.0.0.1:9/api' };

  it('uses signed HTTP (the fast-ack receiver) with bounded retries, 429s handed back, and the stand-in URL', () => {
    const options = appOptions(slack, log);
    expect(options).toMatchObject({ token: 'xoxb-1' });
    expect(options.receiver).toBeInstanceOf(FastAckReceiver);
    expect(options.socketMode).toBeUndefined();
    expect(options.clientOptions).toMatchObject({ slackApiUrl: 'http://127.0.0.1:9/api/', rejectRateLimitedCalls: true, retryConfig: RETRY_CONFIG });
    expect(RETRY_CONFIG.retries).toBeLessThanOrEqual(3);
    expect(options.logLevel).toBe(LogLevel.ERROR);
  });

  it('posts through a client that never re-sends on its own (a timed-out post may have been made)', () => {
    const options = postingClientOptions(slack, log, 250);
    expect(options).toMatchObject({ slackApiUrl: 'http://127.0.0.1:9/api/', rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, timeout: 250 });
    expect(appOptions(slack, log, 250).clientOptions).toMatchObject({ timeout: 250, retryConfig: RETRY_CONFIG });
  });

  it('uses Socket Mode with the app token and the same API URL for the socket client', () => {
    const options = appOptions({ ...slack, socketMode: true, appToken: 'xapp-1' }, log);
    expect(options).toMatchObject({ socketMode: true, appToken: 'xapp-1', installerOptions: { clientOptions: { slackApiUrl: 'http://127.0.0.1:9/api/' } } });
    expect(options.signingSecret).toBeUndefined();
  });

  it.each([
    [{ botToken: undefined }, /SLACK_BOT_TOKEN/],
    [{ signingSecret: undefined }, /SLACK_SIGNING_SECRET/],
    [{ socketMode: true }, /SLACK_APP_TOKEN/],
  ])('refuses incomplete config %o', (change, message) => {
    const config = { ...slack, ...change } as SlackConfig;
    expect(() => appOptions(config, log)).toThrow(message);
  });
});

describe('approvers', () => {
  const config: ApprovalConfig = {
    approvers: { T1: { users: ['U0BOB'], usergroups: ['S1'] } },
    required: { 'read-only': 0, 'side-copy': 1, destructive: 2 },
    ttlMinutes: 30,
  };
  const plan = (risk: Plan['risk'], destructive = false): Plan => ({ command: 'x', summary: 's', risk, facts: {}, steps: [{ kind: 'k', title: 't', params: {}, destructive }] });

  it('needs as many approvals as configured for the risk, and one at least for a destructive step', () => {
    expect(requiredApprovals(config, plan('side-copy'))).toBe(1);
    expect(requiredApprovals(config, plan('destructive', true))).toBe(2);
    expect(requiredApprovals({ ...config, required: { ...config.required, 'read-only': 0 } }, plan('read-only', true))).toBe(1);
  });

  it('resolves user groups once per cache period and builds the policy for the team', async () => {
    let now = 0;
    const lookups: string[] = [];
    const directory = new ApproverDirectory(config, async (group) => {
      lookups.push(group);
      return ['U0DAVE'];
    }, () => now, 1000);
    expect(directory.mentions('T1').map(mrkdwn)).toEqual(['<@U0BOB>', '<!subteam^S1>']);
    expect(directory.mentions('T2')).toEqual([]);
    const policy = await directory.policy('T1', plan('side-copy'));
    expect(policy).toEqual({ approvers: { T1: { userIds: ['U0BOB'], usergroupMembers: ['U0DAVE'] } }, required: 1, ttlMinutes: 30, stamp: policyStamp(config) });
    // What the bot records with a vote: how it found the voter an approver.
    expect(await directory.via('T1', 'U0DAVE')).toEqual({ kind: 'usergroup', usergroup: 'S1' });
    expect(await directory.via('T1', 'U0BOB')).toEqual({ kind: 'user' });
    expect(await directory.via('T1', 'U0CAROL')).toBeNull();
    expect(await directory.isApprover('T1', 'U0DAVE')).toBe(true);
    expect(await directory.isApprover('T1', 'U0CAROL')).toBe(false);
    expect(await directory.isApprover('T2', 'U0BOB')).toBe(false);
    expect(lookups).toEqual(['S1']);
    now = 2000;
    await directory.policy('T1', plan('side-copy'));
    expect(lookups).toEqual(['S1', 'S1']);
  });

  it('reports a failed group lookup as a Slack error, never as "not an approver"', async () => {
    const directory = new ApproverDirectory(config, async () => {
      throw Object.assign(new Error('An API error occurred: missing_scope'), { code: 'slack_webapi_platform_error', data: { error: 'missing_scope' } });
    });
    const error = await directory.policy('T1', plan('side-copy')).catch((e: unknown) => e);
    expect(isRecoverError(error) && error.code).toBe('SLACK_API_ERROR');
    expect(String((error as Error).message)).toContain('missing_scope');
  });
});

describe('Slack errors', () => {
  const limited = Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter: 7 });
  const platform = (code: string) => Object.assign(new Error(code), { code: 'slack_webapi_platform_error', data: { error: code } });

  it('reads Retry-After and platform codes', () => {
    expect(rateLimitSeconds(limited)).toBe(7);
    expect(rateLimitSeconds(new Error('x'))).toBeUndefined();
    expect(slackErrorCode(platform('not_in_channel'))).toBe('not_in_channel');
    expect(isPermanentSlackError(platform('invalid_blocks'))).toBe(true);
    expect(isPermanentSlackError(platform('internal_error'))).toBe(false);
    expect(slackFailure('to post', platform('not_in_channel')).hint).toContain('/invite');
    expect(slackFailure('to post', new Error('token xoxb-123-secret leaked')).message).not.toContain('xoxb-123-secret');
  });

  it('retries 429s after Retry-After, a bounded number of times', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRateLimitRetry(async () => {
      calls += 1;
      if (calls < 3) throw limited;
      return 'ok';
    }, 4, async (ms) => void waits.push(ms));
    expect(result).toBe('ok');
    expect(waits).toEqual([7000, 7000]);
    await expect(withRateLimitRetry(async () => {
      throw limited;
    }, 2, async () => undefined)).rejects.toBe(limited);
    await expect(withRateLimitRetry(async () => {
      throw platform('channel_not_found');
    }, 5, async () => undefined)).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });
});
