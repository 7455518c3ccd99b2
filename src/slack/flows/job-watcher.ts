/**
 * Follows jobs through their events and keeps Slack in step: one status message per job
 * (through the update scheduler), a thread reply per finished step, the integrity report,
 * and the summary when the job ends. Woken by NOTIFY on `recover_events` and by a poll;
 * reads with listEvents(jobId, afterId), so nothing is missed or shown twice.
 *
 * Lost runners: the watcher also reaps expired leases (reapExpiredLeases) on every poll, so a
 * job whose runner died is marked failed (RUNNER_LOST) and shown as failed even when no
 * runner of its pool is alive to notice; the job.failed event then renders like any other.
 *
 * Restart safety: the id of the last event that produced a post is kept in the job's
 * slack_refs (`postedEventId`). On start, jobs with a status message are re-read: events up
 * to that id only rebuild the state; later ones are posted as usual.
 */
import {
  getCurrentPlan, getJob, getRequest, heartbeatSilence, listApprovals, listEvents, listJobs, reapExpiredLeases, setJobSlackRefs, type EventRecord, type JobRecord,
  type RequestRecord,
} from '../../control/index.js';
import { toRecoverError } from '../../errors.js';
import { redactText } from '../../log.js';
import type { Plan } from '../../types.js';
import { code, escapeMrkdwn, truncate, type SlackMessage } from '../views/common.js';
import { notice } from '../views/help.js';
import { integrityMessage } from '../views/integrity.js';
import { runnerSilence, statusMessage, type StatusMeta } from '../views/status.js';
import { stepFinishedMessage, summaryTarget } from '../views/summary.js';
import { summaryFactsOf } from './summary-facts.js';
import type { BotDeps } from '../context.js';
import { applyEvent, initialJobView, isTerminal, type JobView } from '../views/job-view.js';
import { PRIORITY } from '../io/outbox.js';
import { buildSummary } from './summary-data.js';
import { postDrillChart } from './drill-chart.js';

interface Tracked {
  jobId: string;
  channel: string;
  statusTs: string;
  plan: Plan | null;
  meta: StatusMeta;
  view: JobView;
  postedEventId: number;
  integrityTs?: string;
  /** The integrity report was posted (its ts is unknown if that happened before a restart). */
  integrityShown?: boolean;
  dirty: boolean;
  running: boolean;
  failing: { eventId: number; attempts: number } | null;
  noticeSent: boolean;
  /** Whether the status message was updated since the bot follows the job. */
  shown: boolean;
}

const PAGE = 200;
const ATTEMPTS_PER_EVENT = 3;
/** Every how many polls to look for active jobs the bot does not follow yet. */
const DISCOVER_EVERY = 10;

export class JobWatcher {
  private readonly tracked = new Map<string, Tracked>();
  private polls = 0;
  private reaping = false;

  constructor(private readonly deps: BotDeps) {}

  /** After enqueue: posts the job's status message, remembers where, and follows the job. */
  async start(job: JobRecord): Promise<void> {
    await this.adopt(job.id);
  }

  /** On start: picks up jobs with events not yet shown, or with no status message yet. */
  async resume(): Promise<number> {
    let resumed = 0;
    for (const job of await listJobs(this.deps.control, { recentLimit: 20 })) {
      if (await this.adopt(job.id)) resumed += 1;
    }
    return resumed;
  }

  /** A NOTIFY (or the poll) says this job may have new events. */
  notify(jobId: string): void {
    const tracked = this.tracked.get(jobId);
    if (tracked) return this.kick(tracked);
    // Logged by Tasks; without the job there is no channel to tell, and the next poll retries.
    this.deps.tasks.run('adopt job', async () => void (await this.adopt(jobId)), async () => undefined);
  }

  /**
   * Marks jobs whose runner stopped renewing its lease as failed (RUNNER_LOST) and follows
   * them, so the channel hears about it. One pass at a time; safe alongside runners reaping.
   */
  reap(): void {
    if (this.reaping) return;
    this.reaping = true;
    this.deps.tasks.run('reap jobs of lost runners', async () => {
      try {
        for (const job of await reapExpiredLeases(this.deps.control)) {
          this.deps.log.warn({ jobId: job.id, runnerId: job.runnerId }, 'job lost its runner; marked failed (RUNNER_LOST)');
          this.notify(job.id);
        }
      } finally {
        this.reaping = false;
      }
    }, async () => undefined); // logged by Tasks; the next poll tries again
  }

  /** Catches up every followed job; now and then also looks for active jobs it does not follow. */
  poll(): void {
    this.reap();
    for (const tracked of this.tracked.values()) {
      this.kick(tracked);
      this.checkHeartbeat(tracked);
    }
    if (this.polls++ % DISCOVER_EVERY === 0) {
      this.deps.tasks.run('look for jobs', async () => {
        for (const job of await listJobs(this.deps.control, { recentLimit: 0 })) if (!this.tracked.has(job.id)) await this.adopt(job.id);
      }, async () => undefined);
    }
  }

  /**
   * A running job whose runner went quiet says so on its status message (runner not
   * heartbeating for N s), before the lease runs out and the job is failed as RUNNER_LOST; the
   * line goes once the runner is heard from again.
   */
  private checkHeartbeat(t: Tracked): void {
    if (t.view.status !== 'running') return;
    this.deps.tasks.run(`check the heartbeat of job ${t.jobId}`, async () => {
      const lease = await heartbeatSilence(this.deps.control, t.jobId);
      const silence = lease ? runnerSilence(lease.silentSeconds, lease.leaseSeconds) : null;
      if (JSON.stringify(silence) === JSON.stringify(t.meta.silence ?? null) || this.tracked.get(t.jobId) !== t) return;
      t.meta = { ...t.meta, silence };
      this.pushStatus(t);
    }, async () => undefined); // logged by Tasks; the next poll tries again
  }

  view = (jobId: string): JobView | null => this.tracked.get(jobId)?.view ?? null;

  /** Someone asked to cancel: show it on the status message now. */
  cancelRequested(jobId: string, by: string): void {
    const tracked = this.tracked.get(jobId);
    if (!tracked) return;
    tracked.meta = { ...tracked.meta, cancelRequestedBy: by };
    this.pushStatus(tracked);
    this.kick(tracked);
  }

  private meta(request: RequestRecord, plan: Plan | null, approvedBy: string[]): StatusMeta {
    const command = this.deps.typedText.get(request.id) ?? request.command;
    return { requestId: request.id, requesterId: request.requesterId, approvedBy, summary: plan?.summary ?? command, command };
  }

  /**
   * Starts following a job of a request filed from Slack, posting its status message if it
   * has none yet (the post after enqueue failed, or the bot stopped in between). Skips jobs
   * that ended with everything posted. One at a time per job, so nothing is posted twice.
   */
  private adopt(jobId: string): Promise<boolean> {
    const { control, out } = this.deps;
    return this.deps.locks.serial(`job:${jobId}`, async () => {
      if (this.tracked.has(jobId)) return false;
      const job = await getJob(control, jobId);
      if (!job) return false;
      const posted = job.slackRefs.postedEventId ?? 0;
      if (job.slackRefs.statusTs && isTerminal(job.status) && (await listEvents(control, job.id, posted, 1)).length === 0) return false;
      const [request, plan, approvals] = await Promise.all([
        getRequest(control, job.requestId),
        getCurrentPlan(control, job.requestId),
        listApprovals(control, job.requestId),
      ]);
      if (!request || (!job.slackRefs.statusTs && !request.slackRefs.channel)) return false;
      const approvedBy = approvals.filter((a) => a.decision === 'approve' && a.planDigest === job.planDigest && !a.voidedAt).map((a) => a.approverId);
      const meta = { ...this.meta(request, plan?.plan ?? null, approvedBy), cancelRequestedBy: job.cancelRequestedBy };
      const view = initialJobView(job.id, plan?.plan ?? null);
      const channel = job.slackRefs.channel ?? request.slackRefs.channel ?? request.channelId;
      let statusTs = job.slackRefs.statusTs;
      if (!statusTs) {
        statusTs = await out.post(channel, statusMessage(view, meta, this.deps.clock.now()), undefined, { key: `job:${job.id}:status`, kind: 'status' });
        await setJobSlackRefs(control, job.id, { channel, statusTs, threadTs: statusTs });
      }
      this.follow({
        jobId: job.id, channel, statusTs, plan: plan?.plan ?? null, meta, view, postedEventId: posted,
        dirty: false, running: false, failing: null, noticeSent: false, shown: job.slackRefs.statusTs === undefined,
      });
      return true;
    });
  }

  private follow = (tracked: Tracked): void => void (this.tracked.set(tracked.jobId, tracked), this.kick(tracked));

  /**
   * At most one catch-up per job at a time; a wake-up during one makes it go round again, except
   * for an ended job (it raced an adopt woken by the same later event, both posting its summary):
   * that wake-up goes to adopt, which holds the job's lock and starts from what was posted.
   */
  private kick(t: Tracked): void {
    t.dirty = true;
    if (t.running) return;
    t.running = true;
    this.deps.tasks.run(`follow job ${t.jobId}`, async () => {
      try {
        while (t.dirty && this.tracked.get(t.jobId) === t) {
          t.dirty = false;
          await this.catchUp(t);
        }
      } finally {
        t.running = false;
      }
      if (t.dirty && this.tracked.get(t.jobId) !== t) await this.adopt(t.jobId);
    }, (error) => this.reportTrouble(t, error.message));
  }

  private async catchUp(t: Tracked): Promise<void> {
    // A newly followed job shows its state once even without new events (e.g. after a restart).
    let changed = t.view.lastEventId === 0 && !t.shown;
    try {
      for (;;) {
        const events = await listEvents(this.deps.control, t.jobId, t.view.lastEventId, PAGE);
        for (const record of events) {
          const next = applyEvent(t.view, record.id, record.event);
          if (record.id > t.postedEventId) await this.effectsOnce(t, next, record);
          else if (record.event.type === 'integrity.report') t.integrityShown = true; // posted before a restart
          t.view = next;
          changed = true;
        }
        if (events.length < PAGE) break;
      }
      t.noticeSent = false;
    } finally {
      if (changed) this.pushStatus(t);
    }
    if (isTerminal(t.view.status)) this.tracked.delete(t.jobId);
  }

  private pushStatus(t: Tracked): void {
    t.shown = true;
    this.deps.out.update(t.channel, t.statusTs, statusMessage(t.view, t.meta, this.deps.clock.now()), PRIORITY.progress);
  }

  /** Runs an event's posts; after a few failures posts a plain fallback and moves on. */
  private async effectsOnce(t: Tracked, next: JobView, record: EventRecord): Promise<void> {
    try {
      await this.effects(t, next, record);
      t.failing = null;
      this.deps.metrics?.observeEvent(record.event);
    } catch (error) {
      const attempts = t.failing?.eventId === record.id ? t.failing.attempts + 1 : 1;
      t.failing = { eventId: record.id, attempts };
      if (attempts < ATTEMPTS_PER_EVENT) throw error;
      const failure = toRecoverError(error);
      this.deps.log.error({ err: failure, jobId: t.jobId, eventId: record.id }, 'giving up on posting a job event');
      await this.reportTrouble(t, `${failure.message} (event ${record.id}, ${record.event.type}: shown in the summary instead)`);
      await this.markPosted(t, record.id);
    }
  }

  private async effects(t: Tracked, next: JobView, record: EventRecord): Promise<void> {
    const { out } = this.deps;
    const { event } = record;
    const target = summaryTarget(summaryFactsOf(t.plan, null).target).text;
    // Each post is keyed by job, event and kind: repeated (a retry, a restart) it finds the message instead of posting twice.
    const post = (kind: 'step' | 'integrity' | 'summary', message: SlackMessage) =>
      out.post(t.channel, message, t.statusTs, { key: `job:${t.jobId}:event:${record.id}:${kind}`, kind });
    if (event.type === 'step.finished') {
      const index = next.steps.findIndex((s) => s.step === event.step && s.state === 'done' && s.seconds === event.seconds);
      const title = next.steps[index]?.title ?? event.step;
      await post('step', stepFinishedMessage({ index: index < 0 ? null : index, title, seconds: event.seconds, ...(event.detail ? { detail: event.detail } : {}) }));
    } else if (event.type === 'integrity.report' && next.integrity) {
      t.integrityTs = await post('integrity', integrityMessage({ report: next.integrity, target, reached: null }));
      t.integrityShown = true;
    } else if (isTerminal(next.status) && event.type.startsWith('job.')) {
      const reached = summaryFactsOf(t.plan, next.result).recovery?.reachedTime ?? null;
      if (next.integrity && !t.integrityShown && event.type === 'job.succeeded') {
        t.integrityTs = await post('integrity', integrityMessage({ report: next.integrity, target, reached }));
        t.integrityShown = true;
      } else if (next.integrity && t.integrityTs && reached) {
        out.update(t.channel, t.integrityTs, integrityMessage({ report: next.integrity, target, reached }), PRIORITY.progress);
      }
      await post('summary', await buildSummary(this.deps, t.jobId, next));
      await postDrillChart(this.deps, { jobId: t.jobId, channel: t.channel, threadTs: t.statusTs, plan: t.plan, result: next.result });
    } else {
      return;
    }
    await this.markPosted(t, record.id);
  }

  private async markPosted(t: Tracked, eventId: number): Promise<void> {
    t.postedEventId = eventId;
    await setJobSlackRefs(this.deps.control, t.jobId, { postedEventId: eventId });
  }

  /** Tells the job's thread (once per streak) that following it is failing. */
  private async reportTrouble(t: Tracked, message: string): Promise<void> {
    if (t.noticeSent) return;
    t.noticeSent = true;
    message = redactText(message);
    const text = `:warning: recover-bot has trouble following job ${code(t.jobId)}: ${escapeMrkdwn(truncate(message, 2000))}`;
    await this.deps.out.post(t.channel, notice(`${text}\nThe job itself is not affected; the bot keeps retrying.`), t.statusTs);
  }
}
