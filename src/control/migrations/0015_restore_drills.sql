-- Restore drills (RECOVER_DRILL_SCHEDULE, runner/drill.ts): scheduled drill slots are claimed
-- like scheduled backups (one runner of the pool takes each slot), and a drill's result is
-- posted to RECOVER_ALERT_CHANNEL as a notice of its own kind, through rpo_notices' posting.

ALTER TABLE scheduled_runs DROP CONSTRAINT scheduled_runs_kind_check;
ALTER TABLE scheduled_runs ADD CONSTRAINT scheduled_runs_kind_check CHECK (kind IN ('backup', 'drill'));
ALTER TABLE rpo_notices DROP CONSTRAINT rpo_notices_kind_check;
ALTER TABLE rpo_notices ADD CONSTRAINT rpo_notices_kind_check CHECK (kind IN ('alert', 'reminder', 'recovered', 'drill'));

-- One row per drill, scheduled or asked for: the history `/recover drill history` reports.
-- rto_seconds: from the request (or the slot's start) to the restored data verified.
CREATE TABLE restore_drills (
  id           bigserial PRIMARY KEY,
  pool         text NOT NULL,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'command')),
  requested_at timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  ok           boolean NOT NULL,
  backup_id    text,
  target       text,
  rto_seconds  double precision,
  error        jsonb
);
CREATE INDEX restore_drills_pool_time ON restore_drills (pool, requested_at DESC);
