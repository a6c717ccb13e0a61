-- The fleet's control loops: whatever changes what the leader must plan
-- wakes it. Submits and state changes of jobs (from any cbqd, from psql),
-- blocks and who may use them.

CREATE FUNCTION cbq_jobs_notify() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('cbq_jobs', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_jobs_notify() IS
    'Statement trigger: NOTIFY cbq_jobs, payload = the changed table, so the leader replans after a submit, a cancel, a state change or a block change commits.';

-- Reasons and ETAs the leader writes back do not touch state: no wake-up loop.
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_jobs_notify();
CREATE TRIGGER jobs_notify_state AFTER UPDATE OF state ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_jobs_notify();
CREATE TRIGGER blocks_notify AFTER INSERT OR UPDATE OR DELETE ON blocks
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_jobs_notify();
CREATE TRIGGER block_consumers_notify AFTER INSERT OR UPDATE OR DELETE ON block_consumers
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_jobs_notify();
CREATE TRIGGER accounts_notify AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_jobs_notify();

-- Cancelling a job that holds instances: the API records the request, the
-- leader's reconciler terminates the job's own instances and then moves it
-- to cancelled.
ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;
COMMENT ON COLUMN jobs.cancel_requested_at IS
    'When a cancel of a launching, running or expiring job was asked for; the reconciler terminates its instances, then the job is cancelled.';
