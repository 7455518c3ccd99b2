/**
 * Posts the RPO watch's notices (alerts, reminders, recovery notices the runners record in
 * rpo_notices, see runner/rpo) to RECOVER_ALERT_CHANNEL, each once: through the outbox's keyed
 * posts (key rpo:<id>, slack_posts), so a retry or a restarted bot finds the message instead of
 * posting it again. Looked at on every poll; without the channel configured nothing is posted.
 */
import { listUnpostedRpoNotices } from '../../control/rpo-alerts.js';
import type { BotDeps } from '../context.js';
import { notice } from '../views/help.js';

export class RpoNotices {
  private busy = false;

  constructor(private readonly deps: BotDeps) {}

  poll(): void {
    const channel = this.deps.config.alerts.channel;
    if (!channel || this.busy) return;
    this.busy = true;
    this.deps.tasks.run('post RPO watch notices', async () => {
      try {
        for (const n of await listUnpostedRpoNotices(this.deps.control)) {
          await this.deps.out.post(channel, notice(n.text), undefined, { key: `rpo:${n.id}`, kind: 'rpo' });
        }
      } finally {
        this.busy = false;
      }
    }, async () => undefined); // logged by Tasks; the next poll tries again
  }
}
