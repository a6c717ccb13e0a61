-- 0006: the views dashboards read (issue 7), and the two histories they need
-- that the tables so far do not keep:
--
--   job_runs             one row per stretch of time a job held instances
--                        (running or expiring), with the block it held them
--                        on; written by a trigger on jobs, so cbqd's SQL is
--                        unchanged. jobs.block_id forgets the block of an
--                        attempt that was requeued, and job_events do not
--                        name blocks at all.
--   block_usage_history  block_usage (the owner's per-account usage that the
--                        inventory sync mirrors) as intervals of constant
--                        `used`; written by a trigger on block_usage, which
--                        itself only holds the latest sync.
--
-- Every v_* view shows every team's data: dashboards are the platform team's
-- (cbq_dashboard, see 0005). None shows a launch spec (user data, image,
-- subnet, security groups, key, instance profile, tags). Times are hours and
-- days of UTC; "now" is the database's clock (now()). sql/README.md
-- ("Views") documents every column and the idle and cost rule.
--
-- Cost: a dashboard refresh reads what its time range needs, not all
-- history. v_job_history is filtered on jobs.submitted_at (indexed here);
-- v_block_utilization on hour and on block_start / block_end (blocks.end_at
-- is indexed); v_team_usage_daily and v_wait_times on day, which Postgres
-- pushes down to the blocks' days and to job_runs.started_day (indexed).
-- Per block-hour and block-day the usage comes from job_runs and
-- block_usage_history through (block_id, time) indexes.

-- ---- job_runs --------------------------------------------------------------------

CREATE TABLE job_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id          bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt         integer NOT NULL,
    block_id        text,
    instance_count  integer NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    waited_s        double precision,
    started_day     date GENERATED ALWAYS AS ((started_at AT TIME ZONE 'UTC')::date) STORED
);
CREATE INDEX job_runs_job ON job_runs (job_id);
CREATE INDEX job_runs_block ON job_runs (block_id, started_at);
CREATE INDEX job_runs_first_day ON job_runs (started_day) WHERE waited_s IS NOT NULL;
COMMENT ON TABLE job_runs IS
    'Each stretch of time a job held instances (running or expiring), on which block; kept by triggers on jobs. The source of instance-hours in the v_* views.';
COMMENT ON COLUMN job_runs.job_id IS 'The job.';
COMMENT ON COLUMN job_runs.attempt IS 'jobs.attempt when the run began.';
COMMENT ON COLUMN job_runs.block_id IS 'The block the instances were on (jobs.block_id when the run began).';
COMMENT ON COLUMN job_runs.instance_count IS 'Instances held during the run (jobs.instance_count).';
COMMENT ON COLUMN job_runs.started_at IS 'When the job entered running (jobs.started_at, cbqd''s clock).';
COMMENT ON COLUMN job_runs.ended_at IS
    'When it left running/expiring (jobs.updated_at of that transition); NULL while it still holds them.';
COMMENT ON COLUMN job_runs.waited_s IS
    'For the job''s first run only: seconds from submission to this start; NULL for later runs.';
COMMENT ON COLUMN job_runs.started_day IS 'The UTC date of started_at (for v_wait_times).';

-- Held = running or expiring, as in cbq_team_usage_decayed(). A run opens
-- when a job becomes held and closes when it stops being held (done, failed,
-- timed out, expired, cancelled, or requeued at a block's cutoff).
-- Times come from the row (cbqd's clock, which may be scaled), never now().
-- Nothing here may fail a transition: no constraint a bad clock could break.
CREATE FUNCTION cbq_job_runs_track() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    t timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state IN ('running', 'expiring')
       AND NEW.state NOT IN ('running', 'expiring') THEN
        UPDATE job_runs r SET ended_at = greatest(r.started_at, NEW.updated_at)
        WHERE r.job_id = NEW.id AND r.ended_at IS NULL;
    ELSIF NEW.state IN ('running', 'expiring')
          AND (TG_OP = 'INSERT' OR OLD.state NOT IN ('running', 'expiring')) THEN
        t := coalesce(NEW.started_at, NEW.updated_at);
        INSERT INTO job_runs (job_id, attempt, block_id, instance_count, started_at, waited_s)
        SELECT NEW.id, NEW.attempt, NEW.block_id, NEW.instance_count, t,
               CASE WHEN NOT EXISTS (SELECT 1 FROM job_runs p WHERE p.job_id = NEW.id)
                    THEN greatest(0, extract(epoch FROM t - NEW.submitted_at))::double precision
               END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_job_runs_track() IS
    'Trigger on jobs: opens a job_runs row when a job starts holding instances (running, expiring) and closes it when it stops.';
CREATE TRIGGER jobs_runs_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state IN ('running', 'expiring'))
    EXECUTE FUNCTION cbq_job_runs_track();
CREATE TRIGGER jobs_runs_update AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN ((OLD.state IN ('running', 'expiring'))
                       IS DISTINCT FROM (NEW.state IN ('running', 'expiring')))
    EXECUTE FUNCTION cbq_job_runs_track();

-- Runs of jobs that held instances before this migration, from job_events:
-- each entry into running/expiring from another state to the next event
-- that leaves them (or the job's end; open when the job still holds them).
-- The block of an earlier attempt is read from the launch's event reason
-- ("launching N on cr-..."), else jobs.block_id.
INSERT INTO job_runs (job_id, attempt, block_id, instance_count, started_at, ended_at, waited_s)
WITH ev AS (
    SELECT e.job_id, e.id, e.at, e.to_state, e.reason,
           lag(e.to_state) OVER w AS prev_state
    FROM job_events e
    WINDOW w AS (PARTITION BY e.job_id ORDER BY e.at, e.id)
),
starts AS (
    SELECT ev.* FROM ev
    WHERE ev.to_state IN ('running', 'expiring')
      AND (ev.prev_state IS NULL OR ev.prev_state NOT IN ('running', 'expiring'))
)
SELECT s.job_id,
       row_number() OVER (PARTITION BY s.job_id ORDER BY s.at, s.id)::integer,
       coalesce((SELECT substring(l.reason FROM ' on (cr-[0-9a-f]{8,17})')
                 FROM job_events l
                 WHERE l.job_id = s.job_id AND l.to_state = 'launching'
                   AND (l.at, l.id) < (s.at, s.id)
                 ORDER BY l.at DESC, l.id DESC LIMIT 1), j.block_id),
       j.instance_count, s.at,
       CASE WHEN x.at IS NOT NULL THEN greatest(s.at, x.at)
            WHEN j.state NOT IN ('running', 'expiring') THEN greatest(s.at, coalesce(j.ended_at, j.updated_at))
       END,
       CASE WHEN row_number() OVER (PARTITION BY s.job_id ORDER BY s.at, s.id) = 1
            THEN greatest(0, extract(epoch FROM s.at - j.submitted_at))::double precision END
FROM starts s
JOIN jobs j ON j.id = s.job_id
LEFT JOIN LATERAL (
    SELECT e.at FROM job_events e
    WHERE e.job_id = s.job_id AND (e.at, e.id) > (s.at, s.id)
      AND e.to_state NOT IN ('running', 'expiring')
    ORDER BY e.at, e.id LIMIT 1) AS x ON true;
-- jobs holding instances without such events (written by hand)
INSERT INTO job_runs (job_id, attempt, block_id, instance_count, started_at, waited_s)
SELECT j.id, j.attempt, j.block_id, j.instance_count, coalesce(j.started_at, j.updated_at),
       greatest(0, extract(epoch FROM coalesce(j.started_at, j.updated_at) - j.submitted_at))
FROM jobs j
WHERE j.state IN ('running', 'expiring')
  AND NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.job_id = j.id);

-- ---- block_usage_history ------------------------------------------------------------

CREATE TABLE block_usage_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    block_id    text NOT NULL,
    account_id  text NOT NULL,
    used        integer NOT NULL,
    from_at     timestamptz NOT NULL,
    to_at       timestamptz
);
CREATE INDEX block_usage_history_block ON block_usage_history (block_id, from_at);
CREATE INDEX block_usage_history_open ON block_usage_history (block_id, account_id)
    WHERE to_at IS NULL;
COMMENT ON TABLE block_usage_history IS
    'block_usage over time: each row is an interval in which the owner''s view reported used instances of the block for account_id; kept by triggers on block_usage.';
COMMENT ON COLUMN block_usage_history.block_id IS 'The block (no foreign key: history outlives a deleted block).';
COMMENT ON COLUMN block_usage_history.account_id IS 'The account AWS reported.';
COMMENT ON COLUMN block_usage_history.used IS 'Instances it used during the interval.';
COMMENT ON COLUMN block_usage_history.from_at IS 'The sync that first reported this count (block_usage.synced_at).';
COMMENT ON COLUMN block_usage_history.to_at IS
    'The sync that reported another count or no longer listed the account; NULL while current.';

-- A change of used (or a row that appears or disappears) closes the open
-- interval and opens the next one, at the sync's time: NEW.synced_at, or
-- for a row the sync deleted the block's last sync (blocks.synced_at),
-- never before the interval began.
CREATE FUNCTION cbq_block_usage_track() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    t timestamptz;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'UPDATE' THEN
            t := NEW.synced_at;
        ELSE
            t := greatest(OLD.synced_at,
                          (SELECT b.synced_at FROM blocks b WHERE b.id = OLD.block_id));
        END IF;
        UPDATE block_usage_history h SET to_at = greatest(h.from_at, t)
        WHERE h.block_id = OLD.block_id AND h.account_id = OLD.account_id AND h.to_at IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.used > 0 THEN
        INSERT INTO block_usage_history (block_id, account_id, used, from_at)
        VALUES (NEW.block_id, NEW.account_id, NEW.used, NEW.synced_at);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_block_usage_track() IS
    'Trigger on block_usage: keeps block_usage_history, one interval per constant used count.';
CREATE TRIGGER block_usage_history_insert AFTER INSERT ON block_usage
    FOR EACH ROW EXECUTE FUNCTION cbq_block_usage_track();
CREATE TRIGGER block_usage_history_update AFTER UPDATE ON block_usage
    FOR EACH ROW WHEN (OLD.used IS DISTINCT FROM NEW.used OR OLD.block_id <> NEW.block_id
                       OR OLD.account_id <> NEW.account_id)
    EXECUTE FUNCTION cbq_block_usage_track();
CREATE TRIGGER block_usage_history_delete AFTER DELETE ON block_usage
    FOR EACH ROW EXECUTE FUNCTION cbq_block_usage_track();

INSERT INTO block_usage_history (block_id, account_id, used, from_at)
SELECT u.block_id, u.account_id, u.used, u.synced_at FROM block_usage u WHERE u.used > 0;

-- The triggers write tables their callers (cbq_broker, people) cannot: they
-- run as the owner, with a fixed search_path.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION cbq_job_runs_track()'
                   ' SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION cbq_block_usage_track()'
                   ' SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
END
$$;

-- ---- indexes for time filters ------------------------------------------------------

CREATE INDEX jobs_submitted ON jobs (submitted_at);
CREATE INDEX blocks_end ON blocks (end_at);

-- ---- helpers (not for dashboards) ----------------------------------------------------

-- The UTC days of each block's paid window up to now: [lo, hi) is the part
-- of the day inside [start_at, least(end_at, now())). Blocks that were never
-- usable (payment-pending, payment-failed, cancelled, failed) have none.
CREATE VIEW cbq_block_days AS
    SELECT b.id AS block_id, b.owner_account_id, b.total, b.start_at, b.end_at, d.day,
           greatest(b.start_at, d.day::timestamp AT TIME ZONE 'UTC') AS lo,
           least(b.end_at, now(), (d.day + 1)::timestamp AT TIME ZONE 'UTC') AS hi
    FROM blocks b
    CROSS JOIN LATERAL (
        SELECT (b.start_at AT TIME ZONE 'UTC')::date + n AS day
        FROM generate_series(0, (least(b.end_at, now()) AT TIME ZONE 'UTC')::date
                                - (b.start_at AT TIME ZONE 'UTC')::date) AS g (n)) AS d
    WHERE b.state IN ('active', 'expired')
      AND least(b.end_at, now(), (d.day + 1)::timestamp AT TIME ZONE 'UTC')
          > greatest(b.start_at, d.day::timestamp AT TIME ZONE 'UTC');
COMMENT ON VIEW cbq_block_days IS
    'Helper of v_team_usage_daily: each block''s UTC days with the part [lo, hi) of its window (up to now) in each.';

-- Who used each block-day and how much: cbq's jobs (job_runs, per account),
-- accounts outside cbq (block_usage_history of accounts not in `accounts`),
-- and a zero row for the owner account, which takes the idle hours of a
-- block-day nobody used. Idle hours of a used block-day go to its users in
-- proportion to their instance-hours.
CREATE VIEW cbq_block_day_use AS
    SELECT x.day, x.block_id, x.account_id, x.job_id, x.hours, x.capacity_hours,
           x.hours + CASE
               WHEN sum(x.hours) OVER bd > 0
                   THEN greatest(x.capacity_hours - sum(x.hours) OVER bd, 0)
                        * x.hours / sum(x.hours) OVER bd
               WHEN x.owner_row THEN x.capacity_hours
               ELSE 0 END AS attributed_hours
    FROM (
        SELECT d.day, d.block_id, u.account_id, u.job_id, u.hours, u.owner_row,
               d.total * extract(epoch FROM d.hi - d.lo)::double precision / 3600
                   AS capacity_hours
        FROM cbq_block_days d
        CROSS JOIN LATERAL (
            SELECT j.account_id, r.job_id, false AS owner_row,
                   r.instance_count * extract(epoch FROM least(coalesce(r.ended_at, now()), d.hi)
                                                         - greatest(r.started_at, d.lo))::double precision
                       / 3600 AS hours
            FROM job_runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.block_id = d.block_id AND r.started_at < d.hi
              AND coalesce(r.ended_at, now()) > d.lo
            UNION ALL
            SELECT h.account_id, NULL, false,
                   h.used * extract(epoch FROM least(coalesce(h.to_at, now()), d.hi)
                                              - greatest(h.from_at, d.lo))::double precision / 3600
            FROM block_usage_history h
            WHERE h.block_id = d.block_id AND h.from_at < d.hi
              AND coalesce(h.to_at, now()) > d.lo
              AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = h.account_id)
            UNION ALL
            SELECT d.owner_account_id, NULL, true, 0::double precision) AS u
    ) AS x
    WINDOW bd AS (PARTITION BY x.day, x.block_id);
COMMENT ON VIEW cbq_block_day_use IS
    'Helper of v_team_usage_daily: per block, UTC day and user (a job''s account, an account outside cbq, the owner) the instance-hours used and the capacity-hours attributed.';

-- ---- the views ------------------------------------------------------------------------

-- v_policy_now (0002) stays as it is: what is in force per kind and until when.

CREATE VIEW v_queue AS
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
               j.duration_s, j.priority, j.checkpointable, j.state, j.reason, j.eta, j.attempt,
               j.submitted_at, j.submitted_by,
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
COMMENT ON VIEW v_queue IS
    'Pending jobs (queued, and launching ones about to hold instances) with the leader''s reason and ETA, each queued job''s position by expected start (as the API reports it) and its rank in the scheduler''s order recomputed now.';
COMMENT ON COLUMN v_queue.position IS
    'The API''s queue_position: rank among queued jobs by eta (earliest first, jobs without one last), then job_id; NULL for launching jobs.';
COMMENT ON COLUMN v_queue.priority_rank IS
    'Rank among queued jobs in the scheduler''s order: effective_priority (highest first), then submitted_at, then job_id (broker/sched/order.c); NULL for launching jobs.';
COMMENT ON COLUMN v_queue.job_id IS 'Job id.';
COMMENT ON COLUMN v_queue.team IS 'Team of the job.';
COMMENT ON COLUMN v_queue.account_id IS 'AWS account the job launches in.';
COMMENT ON COLUMN v_queue.name IS 'Job name as submitted.';
COMMENT ON COLUMN v_queue.kind IS 'Job kind.';
COMMENT ON COLUMN v_queue.instance_type IS 'Instance type the job needs.';
COMMENT ON COLUMN v_queue.instance_count IS 'Instances the job needs (all on one block).';
COMMENT ON COLUMN v_queue.duration_s IS 'Declared walltime, seconds.';
COMMENT ON COLUMN v_queue.priority IS 'The job''s own priority.';
COMMENT ON COLUMN v_queue.checkpointable IS 'Whether the job may be requeued at a block''s cutoff.';
COMMENT ON COLUMN v_queue.effective_priority IS
    'Points: job + team priority + the kind''s window boost now + ageing - fair-share penalty (broker/sched/order.c).';
COMMENT ON COLUMN v_queue.state IS 'queued or launching.';
COMMENT ON COLUMN v_queue.reason IS 'Why it waits, as the leader last wrote it (jobs.reason).';
COMMENT ON COLUMN v_queue.eta IS 'When the leader expects it to start; NULL when it cannot say.';
COMMENT ON COLUMN v_queue.attempt IS 'Attempt number (1 + requeues).';
COMMENT ON COLUMN v_queue.submitted_at IS 'When it was submitted.';
COMMENT ON COLUMN v_queue.waiting_s IS 'Seconds since submission.';
COMMENT ON COLUMN v_queue.submitted_by IS 'Principal that submitted it.';

CREATE VIEW v_blocks AS
    SELECT b.id AS block_id, b.state, b.instance_type, b.region, b.az, b.owner_account_id,
           b.source, b.total,
           -- a static block's stored count does not see cbq's own launches
           CASE WHEN b.source = 'static' THEN greatest(0, b.available - coalesce(c.used, 0))
                ELSE b.available END AS available,
           b.start_at, b.end_at, b.end_at - interval '30 minutes' AS cutoff_at,
           coalesce(c.used, 0) AS used_by_cbq,
           coalesce(c.jobs, 0) AS jobs_on_block,
           coalesce(o.used, 0) AS used_outside_cbq,
           (SELECT count(*) FROM block_consumers bc WHERE bc.block_id = b.id)::integer
               AS shared_with,
           b.synced_at,
           o.synced_at AS usage_synced_at
    FROM blocks b
    LEFT JOIN LATERAL (
        SELECT sum(j.instance_count)::integer AS used, count(*)::integer AS jobs
        FROM jobs j
        WHERE j.block_id = b.id AND j.state IN ('launching', 'running', 'expiring')) AS c ON true
    LEFT JOIN LATERAL (
        SELECT sum(u.used) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM accounts a WHERE a.account_id = u.account_id))::integer AS used,
               max(u.synced_at) AS synced_at
        FROM block_usage u WHERE u.block_id = b.id) AS o ON true;
COMMENT ON VIEW v_blocks IS
    'Every Capacity Block cbq knows: state, capacity, cutoff, and who uses it now (cbq''s jobs, accounts outside cbq).';
COMMENT ON COLUMN v_blocks.block_id IS 'Capacity reservation id (cr-...).';
COMMENT ON COLUMN v_blocks.state IS 'AWS state: scheduled, active, expired, cancelled, payment-pending, payment-failed, failed.';
COMMENT ON COLUMN v_blocks.instance_type IS 'Instance type of the block.';
COMMENT ON COLUMN v_blocks.region IS 'AWS region.';
COMMENT ON COLUMN v_blocks.az IS 'Availability zone.';
COMMENT ON COLUMN v_blocks.owner_account_id IS 'Account that bought the block.';
COMMENT ON COLUMN v_blocks.source IS 'ec2 (from inventory sync) or static (entered by hand).';
COMMENT ON COLUMN v_blocks.total IS 'Instances the block holds.';
COMMENT ON COLUMN v_blocks.available IS
    'Instances free now: AWS''s AvailableInstanceCount for ec2 blocks; the stored count minus used_by_cbq for static ones.';
COMMENT ON COLUMN v_blocks.start_at IS 'Start of the block.';
COMMENT ON COLUMN v_blocks.end_at IS 'End of the block.';
COMMENT ON COLUMN v_blocks.cutoff_at IS 'end_at - 30 min: AWS terminates instances from here; cbq places nothing past it.';
COMMENT ON COLUMN v_blocks.used_by_cbq IS 'Instances held by cbq jobs now (launching, running, expiring).';
COMMENT ON COLUMN v_blocks.jobs_on_block IS 'cbq jobs holding or launching instances on it now.';
COMMENT ON COLUMN v_blocks.used_outside_cbq IS
    'Instances AWS last reported for accounts that are not in cbq''s accounts table (0 for static blocks).';
COMMENT ON COLUMN v_blocks.shared_with IS 'Accounts the block is shared with (besides the owner).';
COMMENT ON COLUMN v_blocks.synced_at IS 'Last inventory sync of the block.';
COMMENT ON COLUMN v_blocks.usage_synced_at IS 'Last per-account usage sync; NULL when never synced.';

CREATE VIEW v_block_utilization AS
    SELECT b.id AS block_id, b.instance_type, g.hour, b.start_at AS block_start,
           b.end_at AS block_end, b.total,
           w.cap AS capacity_hours, c.hours AS cbq_hours, o.hours AS outside_hours,
           greatest(w.cap - c.hours - o.hours, 0) AS idle_hours
    FROM blocks b
    CROSS JOIN LATERAL generate_series(
        date_trunc('hour', b.start_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        least(b.end_at, now()) - interval '1 microsecond',
        interval '1 hour') AS g (hour)
    CROSS JOIN LATERAL (
        SELECT greatest(b.start_at, g.hour) AS lo,
               least(b.end_at, now(), g.hour + interval '1 hour') AS hi) AS t
    CROSS JOIN LATERAL (
        SELECT b.total * extract(epoch FROM t.hi - t.lo)::double precision / 3600 AS cap) AS w
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(r.instance_count
                            * extract(epoch FROM least(coalesce(r.ended_at, now()), t.hi)
                                                 - greatest(r.started_at, t.lo))::double precision),
                        0) / 3600 AS hours
        FROM job_runs r
        WHERE r.block_id = b.id AND r.started_at < t.hi
          AND coalesce(r.ended_at, now()) > t.lo) AS c
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(h.used
                            * extract(epoch FROM least(coalesce(h.to_at, now()), t.hi)
                                                 - greatest(h.from_at, t.lo))::double precision),
                        0) / 3600 AS hours
        FROM block_usage_history h
        WHERE h.block_id = b.id AND h.from_at < t.hi AND coalesce(h.to_at, now()) > t.lo
          AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = h.account_id)) AS o
    WHERE b.state IN ('active', 'expired');
COMMENT ON VIEW v_block_utilization IS
    'Per block and UTC hour of its window up to now: capacity, instance-hours used by cbq, used outside cbq, and idle. Filter on hour and on block_start/block_end.';
COMMENT ON COLUMN v_block_utilization.block_id IS 'Capacity reservation id.';
COMMENT ON COLUMN v_block_utilization.instance_type IS 'Instance type of the block.';
COMMENT ON COLUMN v_block_utilization.hour IS 'Start of the UTC hour.';
COMMENT ON COLUMN v_block_utilization.block_start IS 'blocks.start_at (filter on it to skip old blocks).';
COMMENT ON COLUMN v_block_utilization.block_end IS 'blocks.end_at (filter on it to skip old blocks).';
COMMENT ON COLUMN v_block_utilization.total IS 'Instances the block holds.';
COMMENT ON COLUMN v_block_utilization.capacity_hours IS
    'Instance-hours the block offers in the hour: total x the part of the hour inside [start_at, least(end_at, now)).';
COMMENT ON COLUMN v_block_utilization.cbq_hours IS
    'Instance-hours cbq jobs held on the block in the hour (job_runs: instance_count x time running or expiring).';
COMMENT ON COLUMN v_block_utilization.outside_hours IS
    'Instance-hours AWS reported for accounts outside cbq in the hour (block_usage_history; 0 for static blocks).';
COMMENT ON COLUMN v_block_utilization.idle_hours IS 'capacity_hours - cbq_hours - outside_hours, at least 0.';

CREATE VIEW v_team_usage_daily AS
    SELECT u.day, a.team, u.account_id, (a.account_id IS NULL) AS outside_cbq,
           sum(u.hours) AS instance_hours,
           count(DISTINCT u.job_id)::integer AS jobs,
           sum(u.attributed_hours) - sum(u.hours) AS idle_hours,
           sum(u.attributed_hours) AS attributed_hours,
           -- every block-day's capacity is attributed in full, so a day's
           -- attributed hours are its capacity-hours
           sum(u.attributed_hours)
               / nullif(sum(sum(u.attributed_hours)) OVER (PARTITION BY u.day), 0) AS cost_share
    FROM cbq_block_day_use u
    LEFT JOIN accounts a ON a.account_id = u.account_id
    GROUP BY u.day, a.team, u.account_id, a.account_id;
COMMENT ON VIEW v_team_usage_daily IS
    'Per UTC day, team and account: instance-hours on blocks, jobs, and the share of the blocks'' capacity-hours (cost) attributed to it, idle hours included (rule in sql/README.md).';
COMMENT ON COLUMN v_team_usage_daily.day IS 'UTC date.';
COMMENT ON COLUMN v_team_usage_daily.team IS 'Team of the account; NULL for an account outside cbq.';
COMMENT ON COLUMN v_team_usage_daily.account_id IS 'AWS account.';
COMMENT ON COLUMN v_team_usage_daily.outside_cbq IS 'The account is not in cbq''s accounts table (another user of a shared block, or the unregistered owner).';
COMMENT ON COLUMN v_team_usage_daily.instance_hours IS
    'Instance-hours used on blocks that day: cbq jobs'' for cbq accounts, AWS''s report for others.';
COMMENT ON COLUMN v_team_usage_daily.jobs IS 'cbq jobs that held instances that day.';
COMMENT ON COLUMN v_team_usage_daily.idle_hours IS 'Idle capacity-hours attributed to it (see the rule).';
COMMENT ON COLUMN v_team_usage_daily.attributed_hours IS 'instance_hours + idle_hours: the capacity-hours it is charged.';
COMMENT ON COLUMN v_team_usage_daily.cost_share IS
    'attributed_hours / capacity-hours of all blocks that day (0..1); the rows of a day sum to 1.';

CREATE VIEW v_wait_times AS
    SELECT r.started_day AS day, j.kind, j.team,
           count(*)::integer AS jobs,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.waited_s) AS p50_s,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.waited_s) AS p95_s,
           max(r.waited_s) AS max_s
    FROM job_runs r JOIN jobs j ON j.id = r.job_id
    WHERE r.waited_s IS NOT NULL
    GROUP BY r.started_day, j.kind, j.team;
COMMENT ON VIEW v_wait_times IS
    'Per UTC day, kind and team: how long jobs that first started that day waited from submission (p50, p95, max).';
COMMENT ON COLUMN v_wait_times.day IS 'UTC date of the jobs'' first start.';
COMMENT ON COLUMN v_wait_times.kind IS 'Job kind.';
COMMENT ON COLUMN v_wait_times.team IS 'Team.';
COMMENT ON COLUMN v_wait_times.jobs IS 'Jobs that first started that day.';
COMMENT ON COLUMN v_wait_times.p50_s IS 'Median wait, seconds (interpolated: percentile_cont).';
COMMENT ON COLUMN v_wait_times.p95_s IS '95th percentile of the wait, seconds (interpolated).';
COMMENT ON COLUMN v_wait_times.max_s IS 'Longest wait, seconds.';

CREATE VIEW v_job_history AS
    SELECT j.id AS job_id, j.team, j.account_id, j.name, j.kind, j.instance_type,
           j.instance_count, j.duration_s, j.priority, j.checkpointable, j.state, j.reason,
           j.block_id, j.attempt, j.submitted_at, j.started_at, j.ended_at, j.updated_at,
           j.submitted_by, j.cancel_requested_at,
           r.waited_s AS wait_s, r.held_s, r.instance_hours
    FROM jobs j
    LEFT JOIN LATERAL (
        SELECT max(x.waited_s) AS waited_s,
               sum(extract(epoch FROM coalesce(x.ended_at, now()) - x.started_at))::double precision
                   AS held_s,
               sum(x.instance_count * extract(epoch FROM coalesce(x.ended_at, now())
                                                         - x.started_at))::double precision
                   / 3600 AS instance_hours
        FROM job_runs x WHERE x.job_id = j.id) AS r ON true;
COMMENT ON VIEW v_job_history IS
    'Every job in any state with its times, wait and instance-hours; no launch spec. Filter on submitted_at.';
COMMENT ON COLUMN v_job_history.job_id IS 'Job id.';
COMMENT ON COLUMN v_job_history.team IS 'Team.';
COMMENT ON COLUMN v_job_history.account_id IS 'AWS account it launches in.';
COMMENT ON COLUMN v_job_history.name IS 'Job name.';
COMMENT ON COLUMN v_job_history.kind IS 'Job kind.';
COMMENT ON COLUMN v_job_history.instance_type IS 'Instance type.';
COMMENT ON COLUMN v_job_history.instance_count IS 'Instances.';
COMMENT ON COLUMN v_job_history.duration_s IS 'Declared walltime, seconds.';
COMMENT ON COLUMN v_job_history.priority IS 'The job''s own priority.';
COMMENT ON COLUMN v_job_history.checkpointable IS 'Whether it may be requeued at a cutoff.';
COMMENT ON COLUMN v_job_history.state IS 'Current state.';
COMMENT ON COLUMN v_job_history.reason IS 'Latest reason.';
COMMENT ON COLUMN v_job_history.block_id IS 'Block of the current or last attempt; NULL while queued.';
COMMENT ON COLUMN v_job_history.attempt IS 'Attempt number.';
COMMENT ON COLUMN v_job_history.submitted_at IS 'Submission time.';
COMMENT ON COLUMN v_job_history.started_at IS 'Start of the current or last run.';
COMMENT ON COLUMN v_job_history.ended_at IS 'When it reached a final state.';
COMMENT ON COLUMN v_job_history.updated_at IS 'Last transition.';
COMMENT ON COLUMN v_job_history.submitted_by IS 'Principal that submitted it.';
COMMENT ON COLUMN v_job_history.cancel_requested_at IS 'When a cancel was asked for, if one was.';
COMMENT ON COLUMN v_job_history.wait_s IS 'Seconds from submission to its first start; NULL if it never started.';
COMMENT ON COLUMN v_job_history.held_s IS 'Seconds it held instances, all runs (up to now for a running job).';
COMMENT ON COLUMN v_job_history.instance_hours IS 'instance_count x held time, hours.';

-- ---- grants (0005's rules) ------------------------------------------------------------

GRANT SELECT ON job_runs, block_usage_history, cbq_block_days, cbq_block_day_use,
                v_queue, v_blocks, v_block_utilization, v_team_usage_daily, v_wait_times,
                v_job_history TO cbq_platform;
GRANT SELECT ON v_queue, v_blocks, v_block_utilization, v_team_usage_daily, v_wait_times,
                v_job_history TO cbq_dashboard;
