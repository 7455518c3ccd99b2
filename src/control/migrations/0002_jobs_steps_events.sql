-- Jobs (one execution of an approved plan by a runner), their step checkpoints and the
-- events the bot turns into Slack messages.

CREATE TABLE jobs (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id          uuid NOT NULL REFERENCES requests (id),
  plan_digest         text NOT NULL,
  -- Region or database host; a runner only claims jobs of its own pool.
  pool                text NOT NULL,
  status              text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  runner_id           text,
  lease_expires_at    timestamptz,
  heartbeat_at        timestamptz,
  cancel_requested    boolean NOT NULL DEFAULT false,
  cancel_requested_by text,
  cancel_requested_at timestamptz,
  -- A resumed job continues an earlier failed or cancelled job of the same plan; its
  -- finished steps are not run again.
  resume_of           uuid REFERENCES jobs (id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz,
  result              jsonb,
  error               jsonb,
  -- { channel, statusTs, threadTs }: where the bot keeps updating this job's status.
  slack_refs          jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT jobs_running_has_lease
    CHECK (status <> 'running' OR (runner_id IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CONSTRAINT jobs_finished_has_time
    CHECK (status IN ('queued', 'running') OR finished_at IS NOT NULL)
);

-- Two approvers completing the quorum at the same moment both try to enqueue; this keeps
-- it to one active job per request even if the application check were bypassed.
CREATE UNIQUE INDEX jobs_one_active_per_request ON jobs (request_id)
  WHERE status IN ('queued', 'running');
CREATE INDEX jobs_queued_by_pool ON jobs (pool, created_at) WHERE status = 'queued';
CREATE INDEX jobs_running_by_lease ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_created_at_idx ON jobs (created_at DESC);

CREATE TABLE step_checkpoints (
  job_id      uuid NOT NULL REFERENCES jobs (id),
  step_index  integer NOT NULL CHECK (step_index >= 0),
  kind        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (job_id, step_index)
);

CREATE TABLE events (
  id      bigserial PRIMARY KEY,
  job_id  uuid NOT NULL REFERENCES jobs (id),
  type    text NOT NULL,
  payload jsonb NOT NULL,
  at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_job_idx ON events (job_id, id);

-- The payload is only the job id: a notification is a wake-up call, the listener reads the
-- rows with listEvents(jobId, afterId). NOTIFY is delivered on commit, so a listener never
-- hears about an event it cannot read yet.
CREATE FUNCTION notify_recover_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('recover_events', NEW.job_id::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify
  AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION notify_recover_event();
