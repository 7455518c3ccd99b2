-- Scheduled dumps (RECOVER_DUMP_SCHEDULE, runner/scheduled-dump.ts): their slots are claimed like
-- scheduled backups' (kind 'dump'). A failed scheduled backup or dump is posted to
-- RECOVER_ALERT_CHANNEL once per failure streak, and a recovery notice when a later slot succeeds:
-- the runners write the notice (they hold no Slack credentials) into rpo_notices, which the bot
-- posts once (slack/flows/rpo-notices.ts).

ALTER TABLE scheduled_runs DROP CONSTRAINT scheduled_runs_kind_check;
ALTER TABLE scheduled_runs ADD CONSTRAINT scheduled_runs_kind_check CHECK (kind IN ('backup', 'drill', 'dump'));
ALTER TABLE rpo_notices DROP CONSTRAINT rpo_notices_kind_check;
ALTER TABLE rpo_notices ADD CONSTRAINT rpo_notices_kind_check CHECK (kind IN ('alert', 'reminder', 'recovered', 'drill', 'schedule-failed', 'schedule-recovered'));

-- One row per (pool, kind of scheduled work). failing_since: the slot that opened the current
-- failure streak (NULL: none open); last_ok_slot: the newest slot that succeeded. A change is one
-- UPDATE … WHERE on the state it moves from, with its notice inserted in the same statement, so a
-- streak is posted once and closed once, whichever runner of the pool ran the slots.
CREATE TABLE schedule_alerts (
  pool          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('backup', 'dump')),
  failing_since timestamptz,
  last_ok_slot  timestamptz,
  PRIMARY KEY (pool, kind)
);
