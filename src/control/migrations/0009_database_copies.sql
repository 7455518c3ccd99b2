-- The database copies runner jobs made (/recover database <db> --at ...), with the outcome of
-- their verification: the proof `/recover database <db> --swap <copy>` requires. A comment on
-- the database itself is not proof (anyone with COMMENT rights on production can write one).
-- A row is written by the copy job, by the runner holding its lease, together with an audit
-- entry (action database.copy.recorded, subject job:<id>); readers count a row only with a
-- matching intact audit entry, so a row inserted by hand is not enough. restored_oid binds the
-- record to the database created (pg_database.oid, read after CREATE DATABASE and again after
-- verification): one dropped and created again under the same name is refused.
-- Rows are facts about the past and are never updated. Where the bot connects with a role of
-- its own, grant INSERT on this table to the runner's role only.

CREATE TABLE database_copies (
  id            bigserial PRIMARY KEY,
  job_id        uuid NOT NULL UNIQUE REFERENCES jobs (id),
  pool          text NOT NULL,
  production    text NOT NULL,
  database      text NOT NULL,
  restored_name text NOT NULL,
  restored_oid  bigint NOT NULL CHECK (restored_oid > 0),
  target_text   text NOT NULL,
  verified      boolean NOT NULL,
  failed_checks jsonb NOT NULL DEFAULT '[]'::jsonb,
  recorded_by   text NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX database_copies_lookup_idx ON database_copies (pool, database, restored_name, id DESC);
