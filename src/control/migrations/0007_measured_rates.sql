-- Measured restore rates, one row per finished phase of a job (base backup streamed in, WAL
-- replayed), written by the runner that ran it. Planning reads the newest rows of its pool
-- and estimates with their medians (src/estimate/rates.ts); rows are facts about the past and
-- are never updated. bytes_per_second is taken over the window in which bytes moved;
-- startup_seconds and tail_seconds are the time before the first and after the last byte.

CREATE TABLE measured_rates (
  id               bigserial PRIMARY KEY,
  pool             text NOT NULL,
  job_id           uuid NOT NULL REFERENCES jobs (id),
  phase            text NOT NULL CHECK (phase IN ('restore-base-backup', 'replay-wal')),
  bytes            bigint NOT NULL CHECK (bytes > 0),
  seconds          double precision NOT NULL CHECK (seconds > 0),
  bytes_per_second double precision NOT NULL CHECK (bytes_per_second > 0),
  startup_seconds  double precision NOT NULL CHECK (startup_seconds >= 0),
  tail_seconds     double precision NOT NULL CHECK (tail_seconds >= 0),
  measured_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_id, phase)
);

CREATE INDEX measured_rates_recent_idx ON measured_rates (pool, phase, id DESC);
