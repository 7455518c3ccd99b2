-- Append-only, hash-chained audit log. hash = sha256 of the canonical JSON of
-- {seq, at, actor, action, subject, details, prev_hash}, computed by the application
-- (src/control/audit.ts) so that verifyAudit can recompute it the same way.

CREATE TABLE audit_log (
  seq       bigserial PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text NOT NULL,
  details   jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash      text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- Refuses UPDATE, DELETE and TRUNCATE for every role, including the application's own.
-- A superuser (or the table owner) can still disable or drop these triggers and rewrite
-- history; that is why verifyAudit re-checks the whole chain instead of trusting them.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
