-- Every message the bot posts for a request or job event (planning message, approval message,
-- status message, step replies, integrity report, summary) is recorded here BEFORE it is posted,
-- keyed by what it is about (e.g. job:<id>:event:<event id>:step). The post carries the key in
-- the message's metadata; when Slack does not answer (a timeout, a network error, a 5xx) or the
-- bot stops before saving the ts, the bot looks for a message with that key in the channel or
-- thread (conversations.history / conversations.replies) and adopts it before posting again,
-- so a slow Web API or a restart never shows the same message twice.

CREATE TABLE slack_posts (
  key        text PRIMARY KEY,
  kind       text NOT NULL,
  -- Set for the approval message: a restarted bot finds it and brings its buttons up to date.
  request_id uuid REFERENCES requests (id),
  channel    text NOT NULL,
  thread_ts  text,
  -- NULL until Slack answered with the message's ts (or the message was found by its key).
  ts         text,
  attempts   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  posted_at  timestamptz
);

CREATE INDEX slack_posts_unposted_idx ON slack_posts (created_at) WHERE ts IS NULL;
CREATE INDEX slack_posts_request_idx ON slack_posts (request_id) WHERE request_id IS NOT NULL;
