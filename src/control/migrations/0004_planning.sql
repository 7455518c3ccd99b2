-- Planning happens on a runner (it holds the storage credentials the catalog needs); the
-- bot only shows the result. A request names the runner pool that plans and runs it, keeps
-- where the bot posted about it, and records why planning refused it.

ALTER TABLE requests
  ADD COLUMN pool           text NOT NULL DEFAULT 'default',
  ADD COLUMN slack_refs     jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN planning_error jsonb;

CREATE INDEX requests_unplanned_idx ON requests (pool, created_at) WHERE status = 'pending' AND planning_error IS NULL;

-- Wake-up calls only (the payload is an id): runners hear about new requests, bots about
-- plans and planning refusals.
CREATE FUNCTION notify_recover_request() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('recover_requests', NEW.pool);
  ELSIF NEW.planning_error IS DISTINCT FROM OLD.planning_error THEN
    PERFORM pg_notify('recover_plans', NEW.id::text);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER requests_notify
  AFTER INSERT OR UPDATE ON requests
  FOR EACH ROW EXECUTE FUNCTION notify_recover_request();

CREATE FUNCTION notify_recover_plan() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('recover_plans', NEW.request_id::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER plans_notify
  AFTER INSERT ON plans
  FOR EACH ROW EXECUTE FUNCTION notify_recover_plan();
