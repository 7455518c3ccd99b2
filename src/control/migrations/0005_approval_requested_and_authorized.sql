-- A request is open for approvals only once its requester asked for them (the "Request
-- approval" click, after the typed confirmation for destructive plans); recordApproval
-- refuses approvals before that. A job records when the runner decided it was authorized:
-- approvals are checked against their time limit then, and later checks before destructive
-- steps only look for rejections, plan changes and cancels, not for time passing.

ALTER TABLE requests
  ADD COLUMN approval_requested_at timestamptz,
  ADD COLUMN approval_requested_by text;

ALTER TABLE jobs
  ADD COLUMN authorized_at timestamptz;
