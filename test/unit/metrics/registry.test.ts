import { describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMetrics } from '../../../src/metrics/registry.js';
import type { MetricsFacts } from '../../../src/control/metrics-facts.js';
import { apiMethodOf } from '../../../src/slack/io/slack-metrics.js';

const FACTS: MetricsFacts = {
  jobs: [{ command: 'pitr', status: 'succeeded', count: 3 }],
  approvalsWaiting: [],
  rates: [{ pool: 'default', phase: 'restore-base-backup', bytesPerSecond: 5e7 }],
  rpo: [{ pool: 'default', production: 'aiagent_prod', state: 'ok', exposureSeconds: null }],
  drills: [
    { pool: 'default', ok: false, finishedAt: 1_796_000_000, lastRtoSeconds: 754 },
    { pool: 'fresh', ok: false, finishedAt: 1_796_000_100, lastRtoSeconds: null },
  ],
};

/** Calls the /metrics answer with a stand-in response; its status and body. */
function scrape(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let status = 0;
    const res = {
      writeHead(code: number) {
        status = code;
        return res;
      },
      end(body?: string) {
        resolve({ status, body: body ?? '' });
      },
    };
    answer({} as IncomingMessage, res as unknown as ServerResponse);
  });
}

describe('createMetrics', () => {
  it('reads the control DB at scrape time; a registry per process, nothing global', async () => {
    const a = createMetrics({ control: null as never, process: 'runner', read: async () => FACTS });
    const b = createMetrics({ control: null as never, process: 'bot', read: async () => FACTS });
    a.slackRateLimited.inc({ method: 'chat.update' });
    const { status, body } = await scrape(a.answer);
    expect(status).toBe(200);
    expect(body).toContain('recover_jobs{command="pitr",state="succeeded",process="runner"} 3');
    expect(body).toContain('recover_throughput_bytes_per_second{pool="default",phase="restore-base-backup",process="runner"} 50000000');
    expect(body).toContain('recover_rpo_state{pool="default",production="aiagent_prod",state="ok",process="runner"} 1');
    expect(body).not.toContain('recover_rpo_exposure_seconds{'); // none seen yet
    expect(body).toContain('recover_slack_api_rate_limited_total{method="chat.update",process="runner"} 1');
    expect((await scrape(b.answer)).body).not.toContain('recover_slack_api_rate_limited_total{');
  });

  it('drills: the newest one\'s result and time per pool, and the RTO of the newest that passed (none measured: no RTO series)', async () => {
    const { body } = await scrape(createMetrics({ control: null as never, process: 'bot', read: async () => FACTS }).answer);
    expect(body).toContain('recover_drill_rto_seconds{pool="default",process="bot"} 754');
    expect(body).toContain('recover_drill_last_success{pool="default",process="bot"} 0');
    expect(body).toContain('recover_drill_last_timestamp_seconds{pool="fresh",process="bot"} 1796000100');
    expect(body).not.toContain('recover_drill_rto_seconds{pool="fresh"');
  });

  it.each([
    [{ type: 'step.finished', at: '2026-12-07T00:00:00Z', step: 'replay-wal', seconds: 12 }, 1],
    [{ type: 'step.started', at: '2026-12-07T00:00:00Z', step: 'replay-wal', title: 'Replay' }, 0],
  ] as const)('observeEvent(%j) counts %i step', async (event, count) => {
    const metrics = createMetrics({ control: null as never, process: 'runner', read: async () => FACTS });
    metrics.observeEvent(event);
    const { body } = await scrape(metrics.answer);
    expect(body.includes('recover_step_duration_seconds_count{process="runner",step="replay-wal"} 1')).toBe(count === 1);
  });

  it.each([
    ['fails', () => Promise.reject(new Error('ECONNREFUSED'))],
    ['does not answer in time', () => new Promise<MetricsFacts>(() => undefined)],
  ])('when the control DB %s, the scrape answers without its series and says so', async (_name, read) => {
    let calls = 0;
    const metrics = createMetrics({ control: null as never, process: 'bot', timeoutMs: 20, read: () => (calls++ === 0 ? Promise.resolve(FACTS) : read()) });
    expect((await scrape(metrics.answer)).body).toContain('recover_control_db_up{process="bot"} 1');
    const { status, body } = await scrape(metrics.answer);
    expect(status).toBe(200);
    expect(body).toContain('recover_control_db_up{process="bot"} 0');
    expect(body).not.toContain('recover_jobs{');
  });

  it('names the Web API method of a rate-limited call', () => {
    expect(apiMethodOf('https://slack.com/api/chat.update')).toBe('chat.update');
    expect(apiMethodOf('chat.postMessage')).toBe('chat.postMessage');
    expect(apiMethodOf(undefined)).toBe('unknown');
  });
});
