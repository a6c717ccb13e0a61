-- A submit no longer NOTIFYs through a trigger. A NOTIFY takes a cluster-wide
-- lock before its transaction commits and keeps it until after, WAL flush
-- included, so that notifications arrive in commit order: every submit's
-- COMMIT waited for the one before it, and concurrent submits could not
-- share a flush (pgbench -c 32 on a 2-vCPU VM: 1,450 one-row INSERTs/s
-- with a NOTIFY each, 5,700 without). Now the submit statement NOTIFYs
-- cbq_jobs only when the cbqd that runs it is not the leader
-- (broker/db/jobs.c, NOTIFY_IF); the leader's own submits wake it directly.
-- A job inserted by hand is planned by the leader's next periodic cycle
-- (within seconds) instead of at once. State changes, blocks and accounts
-- still NOTIFY through their triggers (0003).
DROP TRIGGER jobs_notify_insert ON jobs;
COMMENT ON FUNCTION cbq_jobs_notify() IS
    'Statement trigger: NOTIFY cbq_jobs, payload = the changed table, so the leader replans after a cancel, a state change or a block or account change commits. Submits NOTIFY from their own statement, and only from a cbqd that is not the leader (0014).';
