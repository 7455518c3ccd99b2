-- Requests typed in Slack (or the CLI), the plans computed for them, and the approvals
-- that bind to one plan's digest.

CREATE TABLE requests (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id      text NOT NULL,
  channel_id   text NOT NULL,
  requester_id text NOT NULL,
  command      text NOT NULL,
  args         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Mirrors the latest job once one exists; 'rejected' is final (a reject ends the request).
  status       text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled'))
);

CREATE INDEX requests_created_at_idx ON requests (created_at DESC);

-- A request may get several plans while people look at it (facts change, arguments are
-- edited); the newest row is the current plan. Rows are never rewritten, so an approval of
-- an older digest can still be explained afterwards.
CREATE TABLE plans (
  id         bigserial PRIMARY KEY,
  request_id uuid NOT NULL REFERENCES requests (id),
  plan       jsonb NOT NULL,
  digest     text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX plans_request_idx ON plans (request_id, id DESC);

-- One row per (request, person): a double click is one approval, and changing one's mind
-- replaces the row. voided_at is set when a new plan replaces the one approved, so that
-- going back to an earlier plan (A -> B -> A) does not revive approvals given to A.
CREATE TABLE approvals (
  request_id  uuid NOT NULL REFERENCES requests (id),
  approver_id text NOT NULL,
  plan_digest text NOT NULL,
  decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  voided_at   timestamptz,
  PRIMARY KEY (request_id, approver_id)
);
