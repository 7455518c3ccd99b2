/**
 * trigger_ids as Slack issues them: one per user interaction, valid for 3 seconds, usable
 * once. Expiry is measured on the injected clock so tests can step past it without sleeping.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from './types.js';

export const TRIGGER_TTL_MS = 3000;

export interface TriggerGrant {
  id: string;
  user: string;
  channel?: string;
  issuedAt: Date;
}

export type TriggerCheck =
  | { ok: true; grant: TriggerGrant }
  | { ok: false; error: 'invalid_trigger_id' | 'expired_trigger_id' };

export class TriggerRegistry {
  private readonly grants = new Map<string, TriggerGrant & { used: boolean }>();
  private sequence = 0;

  constructor(private readonly clock: Clock, private readonly ttlMs = TRIGGER_TTL_MS) {}

  issue(user: string, channel?: string): string {
    this.sequence += 1;
    const issuedAt = this.clock.now();
    // Same shape as Slack's ids (digits.digits.hex) so nothing downstream parses it differently.
    const id = `${Math.floor(issuedAt.getTime() / 1000)}.${this.sequence}.${randomBytes(16).toString('hex')}`;
    this.grants.set(id, { id, user, issuedAt, used: false, ...(channel === undefined ? {} : { channel }) });
    return id;
  }

  /** Consumes the trigger: a second call with the same id is `invalid_trigger_id`, as in Slack. */
  consume(id: string): TriggerCheck {
    const grant = this.grants.get(id);
    if (!grant || grant.used) return { ok: false, error: 'invalid_trigger_id' };
    if (this.clock.now().getTime() - grant.issuedAt.getTime() > this.ttlMs) {
      return { ok: false, error: 'expired_trigger_id' };
    }
    grant.used = true;
    const { id: grantId, user, channel, issuedAt } = grant;
    return { ok: true, grant: { id: grantId, user, issuedAt, ...(channel === undefined ? {} : { channel }) } };
  }
}
