-- Slack request keys (trigger_id) already handled, shared by every bot instance and kept
-- across restarts, so a signed request replayed within Slack's 5-minute window acts once.
-- Rows older than the window are pruned by the bot as it inserts new ones.

CREATE TABLE seen_slack_requests (
  key     text PRIMARY KEY,
  seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX seen_slack_requests_seen_at_idx ON seen_slack_requests (seen_at);
