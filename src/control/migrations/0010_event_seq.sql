-- A runner numbers the events it writes for a job (1, 2, 3 ... per job) and inserts them with
-- ON CONFLICT DO NOTHING on this number. While the control DB is away (a restart, a failover)
-- it keeps them and tries again; an INSERT that committed but whose reply was lost is then
-- not written twice. Events written by the control layer itself (job.succeeded from
-- finishJob, cancels, lost runners) have no number: NULLs never conflict.

ALTER TABLE events ADD COLUMN seq integer CHECK (seq > 0);

CREATE UNIQUE INDEX events_job_seq_idx ON events (job_id, seq);
