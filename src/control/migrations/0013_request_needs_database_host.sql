-- Requests whose command acts on production's data directory (an in-place restore) are planned
-- only by a runner on the database host (RECOVER_SOURCE_DATA_DIR set; runner/routing.ts); the
-- plan then records that runner's host, and only a runner there claims the job.

ALTER TABLE requests
  ADD COLUMN needs_database_host boolean NOT NULL DEFAULT false;
