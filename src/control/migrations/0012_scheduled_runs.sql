-- Scheduled work of a runner pool (RECOVER_BACKUP_SCHEDULE: a base backup, then retention).
-- Every runner of the pool computes the same slots; the one whose INSERT … ON CONFLICT DO
-- NOTHING creates the slot's row runs it, so two runners never both take a backup for one slot
-- and a slot is run at most once (a runner lost while running leaves its row 'running': that
-- slot is not taken again, the next one is). Rows are the record of what ran, when and how it
-- ended.

CREATE TABLE scheduled_runs (
  pool        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('backup')),
  -- The schedule's time this run is for (a minute, UTC), not when it started.
  slot        timestamptz NOT NULL,
  runner_id   text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
  result      jsonb,
  error       jsonb,
  PRIMARY KEY (pool, kind, slot),
  CONSTRAINT scheduled_runs_finished_has_time CHECK (status = 'running' OR finished_at IS NOT NULL)
);
