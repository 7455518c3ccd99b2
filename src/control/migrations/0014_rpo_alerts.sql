-- The RPO watch (runner/rpo): one row per (pool, production) with the archiving state the runners
-- last saw and whether an alert is open. Every runner of the pool looks; a change of state is
-- claimed with UPDATE … WHERE version = <the version it read>, so of two runners (or a runner
-- and its restarted self) exactly one moves the row and writes the notice, in the same statement.

CREATE TABLE rpo_alerts (
  pool             text NOT NULL,
  production       text NOT NULL,
  -- What the last look found: 'ok', 'exposed' (newest archived WAL older than the RPO), 'failing' (archiving fails).
  state            text NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'exposed', 'failing')),
  exposure_seconds integer,
  checked_at       timestamptz NOT NULL DEFAULT now(),
  -- Set while an alert is open (posted, not yet recovered); last_notice_at: the alert or its last reminder.
  opened_at        timestamptz,
  last_notice_at   timestamptz,
  version          integer NOT NULL DEFAULT 0,
  PRIMARY KEY (pool, production)
);

-- What the bot posts to RECOVER_ALERT_CHANNEL, one row per alert, reminder and recovery notice
-- (posted once through slack_posts under the key rpo:<id>).
CREATE TABLE rpo_notices (
  id         bigserial PRIMARY KEY,
  pool       text NOT NULL,
  production text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('alert', 'reminder', 'recovered')),
  text       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
