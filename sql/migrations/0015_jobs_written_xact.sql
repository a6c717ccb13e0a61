-- Which transaction last wrote each job, so that the leader reads only the
-- jobs that changed since its last scheduling cycle instead of every queued
-- job each time (40,000 queued: about 45 ms of a Postgres backend and 5 MB
-- through the event loop, every cycle of a burst of submits).
--
-- The leader keeps the snapshot each read was taken in (pg_current_snapshot)
-- and next asks for the rows whose writer that snapshot did not see as
-- committed: written_xact >= its xmin (this index) and not
-- pg_visible_in_snapshot. A transaction still running at the first read is
-- in the snapshot's in-progress list, so its rows come with a later read,
-- whatever the order of commits. See broker/db/pending.c.
--
-- The submit's INSERT takes the default; every UPDATE, by cbq or by hand,
-- goes through the trigger. A DELETE leaves nothing to read: the leader
-- compares the queued count with what it holds and reads everything again
-- when they differ.
ALTER TABLE jobs ADD COLUMN written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
COMMENT ON COLUMN jobs.written_xact IS
    'The transaction that last inserted or updated the row (trigger jobs_written_xact); the leader reads what changed since its last read by it.';
CREATE INDEX jobs_written_xact ON jobs (written_xact);

CREATE FUNCTION cbq_job_written_xact() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.written_xact := pg_current_xact_id();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cbq_job_written_xact() IS
    'Trigger on jobs: an UPDATE records its transaction in written_xact.';
CREATE TRIGGER jobs_written_xact BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION cbq_job_written_xact();
