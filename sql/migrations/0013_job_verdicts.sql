-- The leader's verdict on a queued job (why it waits, when it should start)
-- moves out of jobs into a narrow table of its own. The leader rewrites
-- verdicts every cycle for every new or changed job, 10,000 a cycle in a
-- burst of submits: as an UPDATE of jobs each was a new version of a whole
-- job row (launch spec included) and an entry in each of its seven indexes,
-- about 1 KB of WAL; here it is a 100-byte row and two index entries. The
-- submit no longer pays for the (eta, id) index either.
--
-- A row exists only while its job is queued: the leader writes verdicts
-- only for jobs it finds queued, holding a share lock on them until it
-- commits (broker/db/verdicts.c), and a trigger deletes the row when the
-- job leaves queued. A queued job without a row has not been planned yet:
-- readers show jobs.reason (the submit's or the requeue's) and no ETA.
CREATE TABLE job_verdicts (
    job_id bigint PRIMARY KEY,
    reason text NOT NULL,
    eta timestamptz NOT NULL
);
COMMENT ON TABLE job_verdicts IS
    'The leader''s latest verdict on each queued job it has planned; deleted when the job leaves queued. Rewritten by every cycle that changes it.';
COMMENT ON COLUMN job_verdicts.reason IS 'Why it waits (or why it launches now).';
COMMENT ON COLUMN job_verdicts.eta IS
    'When it is expected to start; ''infinity'' when the leader cannot say (readers show NULL).';

-- Queue positions (the API's Job.queue_position): rank among queued jobs by
-- eta, then id, a job without a verdict counting as eta infinity. The
-- count of rows before a key is a walk of this index; see broker/db/jobs.c.
CREATE INDEX job_verdicts_order ON job_verdicts (eta, job_id);

INSERT INTO job_verdicts (job_id, reason, eta)
SELECT id, reason, eta FROM jobs WHERE state = 'queued' AND eta IS NOT NULL;

CREATE FUNCTION cbq_job_verdict_drop() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM job_verdicts WHERE job_id = OLD.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_job_verdict_drop() IS
    'Trigger on jobs: a job that leaves queued loses its verdict.';
CREATE TRIGGER jobs_verdict_drop AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state = 'queued' AND NEW.state <> 'queued')
    EXECUTE FUNCTION cbq_job_verdict_drop();

-- The views of 0006 read verdicts from here; their columns do not change.
CREATE OR REPLACE VIEW v_queue AS
    WITH boost AS (
        SELECT t.kind, t.boost
        FROM cbq_policy_timeline(now(), interval '1 minute') AS t
        WHERE t.start_at = now()
    ),
    usage AS (
        SELECT u.team, u.instance_hours,
               sum(u.instance_hours) OVER () AS total
        FROM cbq_team_usage_decayed(now()) AS u
    ),
    s AS (SELECT p.ageing_per_hour, p.fair_share_weight FROM policy_settings p),
    q AS (
        SELECT j.id, j.team, j.account_id, j.name, j.kind, j.instance_type, j.instance_count,
               j.duration_s, j.priority, j.checkpointable, j.state,
               coalesce(v.reason, j.reason) AS reason, nullif(v.eta, 'infinity') AS eta,
               j.attempt, j.submitted_at, j.submitted_by,
               -- broker/sched/order.c, in milli-points
               (j.priority + tm.priority + coalesce(b.boost, 0))::bigint * 1000
               + trunc(greatest(extract(epoch FROM now() - j.submitted_at), 0) * 1000
                       * coalesce(s.ageing_per_hour, 1) / 3600)::bigint
               - CASE WHEN u.total > 0
                      THEN round(coalesce(s.fair_share_weight, 100) * (u.instance_hours / u.total)
                                 * 1000)::bigint
                      ELSE 0 END AS eff_milli
        FROM jobs j
        JOIN teams tm ON tm.name = j.team
        LEFT JOIN job_verdicts v ON v.job_id = j.id AND j.state = 'queued'
        LEFT JOIN boost b ON b.kind = j.kind
        LEFT JOIN usage u ON u.team = j.team
        LEFT JOIN s ON true
        WHERE j.state IN ('queued', 'launching')
    )
    SELECT CASE WHEN q.state = 'queued'
                THEN row_number() OVER (PARTITION BY q.state = 'queued'
                                        ORDER BY q.eta NULLS LAST, q.id) END
               AS position,
           CASE WHEN q.state = 'queued'
                THEN row_number() OVER (PARTITION BY q.state = 'queued'
                                        ORDER BY q.eff_milli DESC, q.submitted_at, q.id) END
               AS priority_rank,
           q.id AS job_id, q.team, q.account_id, q.name, q.kind, q.instance_type,
           q.instance_count, q.duration_s, q.priority, q.checkpointable,
           (q.eff_milli / 1000.0)::numeric(12,3) AS effective_priority,
           q.state, q.reason, q.eta, q.attempt, q.submitted_at,
           greatest(extract(epoch FROM now() - q.submitted_at), 0)::bigint AS waiting_s,
           q.submitted_by
    FROM q;
COMMENT ON COLUMN v_queue.reason IS
    'Why it waits, as the leader last wrote it (job_verdicts.reason; before the first verdict, jobs.reason).';

CREATE OR REPLACE VIEW v_job_history AS
    SELECT j.id AS job_id, j.team, j.account_id, j.name, j.kind, j.instance_type,
           j.instance_count, j.duration_s, j.priority, j.checkpointable, j.state,
           coalesce(v.reason, j.reason) AS reason,
           j.block_id, j.attempt, j.submitted_at, j.started_at, j.ended_at, j.updated_at,
           j.submitted_by, j.cancel_requested_at,
           r.waited_s AS wait_s, r.held_s, r.instance_hours
    FROM jobs j
    LEFT JOIN job_verdicts v ON v.job_id = j.id AND j.state = 'queued'
    LEFT JOIN LATERAL (
        SELECT max(x.waited_s) AS waited_s,
               sum(extract(epoch FROM coalesce(x.ended_at, now()) - x.started_at))::double precision
                   AS held_s,
               sum(x.instance_count * extract(epoch FROM coalesce(x.ended_at, now())
                                                         - x.started_at))::double precision
                   / 3600 AS instance_hours
        FROM job_runs x WHERE x.job_id = j.id) AS r ON true;

-- jobs.eta goes, and with it 0007's index jobs_queue_order.
ALTER TABLE jobs DROP COLUMN eta;

-- grants (0005's rules): the leader writes verdicts, and its transitions
-- delete them through the trigger
GRANT SELECT, INSERT, UPDATE, DELETE ON job_verdicts TO cbq_broker;
GRANT SELECT ON job_verdicts TO cbq_platform;
