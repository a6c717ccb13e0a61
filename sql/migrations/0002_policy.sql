-- 0002: scheduling policy. Time-of-day windows per job kind and the UTC
-- timeline the scheduler reads (cbq_policy_timeline), per-team quotas per
-- instance type, the fair-share and ageing knobs, per-team decayed usage, and
-- the cbq_policy notification that makes the broker replan. The scheduling
-- rules themselves are C (broker/sched/); time zones are here because
-- Postgres knows them and C should not reimplement them.

-- ---- helpers ------------------------------------------------------------------

-- CHECK constraints may only call immutable functions, and the set of zone
-- names is not immutable (a tzdata upgrade can add or retire a zone; a CHECK
-- that lied about that could make a dump fail to restore). So zones are
-- validated by triggers, at write time only, against pg_timezone_names; the
-- names there are exact and case-sensitive (no POSIX strings like 'UTC+3').
CREATE FUNCTION cbq_check_time_zone(zone text, field text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF zone IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_timezone_names n WHERE n.name = zone) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s: unknown zone %L; see pg_timezone_names', field, zone),
            HINT = 'Use an IANA name such as Europe/Berlin or America/New_York.';
    END IF;
END
$$;
COMMENT ON FUNCTION cbq_check_time_zone(text, text) IS
    'Raises invalid_parameter_value ("FIELD: unknown zone ''X''; see pg_timezone_names") unless zone is NULL or a name in pg_timezone_names.';

-- ISO days of week: 1 = Monday .. 7 = Sunday, as extract(isodow) counts.
CREATE FUNCTION cbq_iso_days_valid(days integer[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(array_ndims(days) = 1  -- NULL for NULL and for '{}'
                    AND cardinality(days) BETWEEN 1 AND 7
                    AND days <@ ARRAY[1, 2, 3, 4, 5, 6, 7]  -- false for NULL elements too
                    AND cardinality(days) = (SELECT count(DISTINCT d) FROM unnest(days) AS u (d)),
                    false);
COMMENT ON FUNCTION cbq_iso_days_valid(integer[]) IS
    'True when days is a non-empty list of distinct ISO days of week (1 = Monday .. 7 = Sunday) without NULLs.';

-- {1,2,3,4,5} → 'Mon-Fri', {6,7} → 'Sat,Sun', {1,3,4,5} → 'Mon,Wed-Fri'.
CREATE FUNCTION cbq_iso_days_text(days integer[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (
        SELECT string_agg(CASE WHEN r.lo = r.hi THEN n.d[r.lo]
                               WHEN r.hi = r.lo + 1 THEN n.d[r.lo] || ',' || n.d[r.hi]
                               ELSE n.d[r.lo] || '-' || n.d[r.hi] END,
                          ',' ORDER BY r.lo)
        FROM (SELECT min(s.d) AS lo, max(s.d) AS hi
              FROM (SELECT u.d, u.d - row_number() OVER (ORDER BY u.d) AS run
                    FROM (SELECT DISTINCT x AS d FROM unnest(days) AS x) AS u) AS s
              GROUP BY s.run) AS r,
             (SELECT '{Mon,Tue,Wed,Thu,Fri,Sat,Sun}'::text[] AS d) AS n
    );
COMMENT ON FUNCTION cbq_iso_days_text(integer[]) IS
    'ISO days of week as text for people: {1,2,3,4,5} is Mon-Fri, {6,7} is Sat,Sun.';

-- ---- settings -----------------------------------------------------------------

CREATE TABLE policy_settings (
    id                            boolean PRIMARY KEY DEFAULT true CHECK (id),
    time_zone                     text NOT NULL DEFAULT 'UTC'
                                  CHECK (length(time_zone) BETWEEN 1 AND 64),
    fair_share_half_life          interval NOT NULL DEFAULT '7 days'
                                  CHECK (fair_share_half_life >= interval '1 hour'
                                         AND fair_share_half_life <= interval '365 days'),
    fair_share_weight             numeric(9,3) NOT NULL DEFAULT 100
                                  CHECK (fair_share_weight BETWEEN 0 AND 100000),
    ageing_per_hour               numeric(7,3) NOT NULL DEFAULT 1
                                  CHECK (ageing_per_hour BETWEEN 0 AND 1000),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE policy_settings IS
    'Scheduling knobs, one row (id = true): the zone windows default to, fair share and ageing. Edit with UPDATE or `cbqd admin policy timezone ZONE`.';
COMMENT ON COLUMN policy_settings.id IS 'Always true: makes this a single-row table.';
COMMENT ON COLUMN policy_settings.time_zone IS
    'IANA zone (a name in pg_timezone_names) of every policy window whose own time_zone is NULL. UTC until the platform team sets its zone.';
COMMENT ON COLUMN policy_settings.fair_share_half_life IS
    'Half-life of the decay in cbq_team_usage_decayed(): an instance-hour used this long ago counts one half.';
COMMENT ON COLUMN policy_settings.fair_share_weight IS
    'Priority points a team loses when it has all of the decayed usage; a team with a fraction of it loses that fraction.';
COMMENT ON COLUMN policy_settings.ageing_per_hour IS
    'Priority points a queued job gains per hour it has waited, without limit, so that nothing starves.';
COMMENT ON COLUMN policy_settings.updated_at IS 'Last change to this row.';

CREATE FUNCTION cbq_policy_settings_check() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'restrict_violation',
            MESSAGE = 'policy_settings: its single row cannot be deleted; UPDATE it instead';
    END IF;
    PERFORM cbq_check_time_zone(NEW.time_zone, 'policy_settings.time_zone');
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION cbq_policy_settings_check() IS
    'Trigger on policy_settings: the zone must be in pg_timezone_names, the row may not be deleted, updated_at follows changes.';
CREATE TRIGGER policy_settings_check
    BEFORE INSERT OR UPDATE OR DELETE ON policy_settings
    FOR EACH ROW EXECUTE FUNCTION cbq_policy_settings_check();

INSERT INTO policy_settings DEFAULT VALUES;

-- ---- windows ------------------------------------------------------------------

CREATE TABLE policy_windows (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL REFERENCES job_kinds (kind) ON UPDATE CASCADE,
    time_zone    text CHECK (length(time_zone) BETWEEN 1 AND 64),
    days         integer[] NOT NULL
                 CONSTRAINT policy_windows_days_iso CHECK (cbq_iso_days_valid(days)),
    start_local  time NOT NULL CONSTRAINT policy_windows_start_in_day CHECK (start_local < '24:00'),
    end_local    time NOT NULL CONSTRAINT policy_windows_end_in_day CHECK (end_local < '24:00'),
    boost        integer NOT NULL DEFAULT 0 CHECK (boost BETWEEN -1000 AND 1000),
    max_share    numeric(4,3) NOT NULL DEFAULT 1 CHECK (max_share BETWEEN 0 AND 1),
    comment      text NOT NULL DEFAULT '' CHECK (length(comment) <= 256),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX policy_windows_kind ON policy_windows (kind);
COMMENT ON TABLE policy_windows IS
    'Time-of-day policy: while a window is in force, jobs of its kind get boost and may use at most max_share of the capacity cbq can use. cbq_policy_timeline() turns the windows into UTC intervals.';
COMMENT ON COLUMN policy_windows.id IS 'Identity; `cbqd admin policy ls` shows it.';
COMMENT ON COLUMN policy_windows.kind IS 'The job kind the window applies to.';
COMMENT ON COLUMN policy_windows.time_zone IS
    'IANA zone (a name in pg_timezone_names) the local times are in; NULL = policy_settings.time_zone.';
COMMENT ON COLUMN policy_windows.days IS
    'ISO days of week (1 = Monday .. 7 = Sunday) on which the window starts; a window crossing midnight ends on the next day.';
COMMENT ON COLUMN policy_windows.start_local IS 'Local wall-clock time the window starts on each of its days.';
COMMENT ON COLUMN policy_windows.end_local IS
    'Local wall-clock time it ends: on the same day when after start_local, else on the next day (equal to start_local = 24 hours of wall clock; 00:00-00:00 is the whole day).';
COMMENT ON COLUMN policy_windows.boost IS
    'Priority points added to every job of the kind while the window is in force (-1000..1000).';
COMMENT ON COLUMN policy_windows.max_share IS
    'Largest fraction (0..1) of the capacity cbq can use of an instance type that jobs of the kind may hold on that type while the window is in force.';
COMMENT ON COLUMN policy_windows.comment IS 'Why the window exists, for people.';
COMMENT ON COLUMN policy_windows.created_at IS 'When the window was added.';

-- Windows are few by nature; the cap bounds cbq_policy_timeline()'s work,
-- which grows with (windows x days of horizon) and, where windows of one kind
-- overlap, with their square: 30 ms for 20 windows over 31 days, about a
-- second for 200 daily windows that all overlap.
CREATE FUNCTION cbq_policy_windows_check() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        PERFORM cbq_check_time_zone(NEW.time_zone, 'policy_windows.time_zone');
        RETURN NEW;
    END IF;
    IF (SELECT count(*) FROM policy_windows) > 100 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'program_limit_exceeded',
            MESSAGE = 'policy_windows: at most 100 windows; combine or delete some';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_policy_windows_check() IS
    'Triggers on policy_windows: each row''s zone must be in pg_timezone_names; the table holds at most 100 windows.';
CREATE TRIGGER policy_windows_zone
    BEFORE INSERT OR UPDATE OF time_zone ON policy_windows
    FOR EACH ROW EXECUTE FUNCTION cbq_policy_windows_check();
CREATE TRIGGER policy_windows_count
    AFTER INSERT ON policy_windows
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_windows_check();

-- The default: training by day on weekdays, inference every night and all
-- weekend, in policy_settings' zone (UTC until the platform team sets theirs).
-- The two inference windows overlap on weekend mornings; they agree.
INSERT INTO policy_windows (kind, days, start_local, end_local, boost, max_share, comment) VALUES
    ('training',  '{1,2,3,4,5}',     '08:00', '20:00', 100, 1, 'training favoured on weekdays by day'),
    ('inference', '{1,2,3,4,5,6,7}', '20:00', '08:00', 100, 1, 'inference favoured every night'),
    ('inference', '{6,7}',           '00:00', '00:00', 100, 1, 'inference favoured all weekend');

-- ---- quotas -------------------------------------------------------------------

CREATE TABLE team_quotas (
    team           text NOT NULL REFERENCES teams (name) ON UPDATE CASCADE ON DELETE CASCADE,
    instance_type  text NOT NULL
                   CHECK (instance_type ~ '^[a-z][a-z0-9-]*\.[a-z0-9-]+$'
                          AND length(instance_type) <= 64),
    max_instances  integer NOT NULL CHECK (max_instances BETWEEN 0 AND 100000),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team, instance_type)
);
COMMENT ON TABLE team_quotas IS
    'Most instances of a type a team''s jobs may hold at once across all blocks; no row = no limit. Edit with `cbqd admin quota set|rm`.';
COMMENT ON COLUMN team_quotas.team IS 'The team the quota limits.';
COMMENT ON COLUMN team_quotas.instance_type IS 'The instance type it counts (p5.48xlarge); other types are not limited by this row.';
COMMENT ON COLUMN team_quotas.max_instances IS 'Most concurrent instances (launching, running or expiring); 0 = the team may not use the type.';
COMMENT ON COLUMN team_quotas.updated_at IS 'Last change to this row.';

COMMENT ON COLUMN teams.priority IS
    'Added to the priority of every job of the team (-1000..1000).';

-- ---- the timeline -------------------------------------------------------------

-- How local windows become UTC intervals, and why it is right across
-- daylight-saving changes: each occurrence is built from a local date plus
-- the window's local time and only then converted with AT TIME ZONE, so a
-- 08:00-20:00 Europe/Berlin window is 07:00-19:00 UTC in winter, 06:00-18:00
-- in summer, and still 08:00-20:00 local on the transition days (a 00:00-00:00
-- window lasts 23 or 25 hours there). Nothing reads the session's TimeZone:
-- dates come from AT TIME ZONE, date arithmetic is on local dates, and the
-- horizon is an exact number of seconds.
--
-- A local edge that does not exist (in the spring-forward gap) or exists twice
-- (fall-back) is read as Postgres reads such times: a skipped time with the
-- offset in force before the jump (Berlin 02:30 on the spring Sunday is
-- 01:30 UTC, i.e. 03:30 CEST), a repeated time as its later, standard-time
-- occurrence (New York 01:30 on the autumn Sunday is 06:30 UTC). An
-- occurrence that comes out empty that way (02:30-03:00 on a spring-forward
-- day) is dropped.
CREATE FUNCTION cbq_policy_timeline(now timestamptz, horizon interval)
    RETURNS TABLE (start_at timestamptz, end_at timestamptz, kind text, boost integer,
                   max_share numeric)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
#variable_conflict use_column
DECLARE
    t0 timestamptz := cbq_policy_timeline.now;
    t1 timestamptz;
    secs numeric;
    default_zone text;
BEGIN
    IF t0 IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'cbq_policy_timeline: now must not be NULL';
    END IF;
    IF horizon IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'cbq_policy_timeline: horizon must not be NULL';
    END IF;
    -- a day counts 24 hours and a month 30 days, as Postgres measures intervals
    secs := extract(epoch FROM horizon);
    IF secs <= 0 OR secs > 31 * 86400 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('cbq_policy_timeline: horizon must be more than 0 and at most 31 days, got %s',
                             horizon);
    END IF;
    t1 := t0 + make_interval(secs => secs::double precision);
    -- the row can only be missing after a TRUNCATE
    default_zone := coalesce((SELECT s.time_zone FROM policy_settings s), 'UTC');

    RETURN QUERY
    WITH zoned AS (
        SELECT w.*, coalesce(w.time_zone, default_zone) AS zone
        FROM policy_windows w
    ),
    -- every occurrence of every window that meets [t0, t1), clipped to it;
    -- local days from the day before t0 (a window crossing midnight) to t1's
    occ AS (
        SELECT z.kind, z.boost, z.max_share,
               greatest(o.s, t0) AS s, least(o.e, t1) AS e
        FROM zoned z
        CROSS JOIN LATERAL (SELECT (t0 AT TIME ZONE z.zone)::date - 1 AS first,
                                   (t1 AT TIME ZONE z.zone)::date AS last) AS r
        CROSS JOIN LATERAL generate_series(0, r.last - r.first) AS i (n)
        CROSS JOIN LATERAL (SELECT r.first + i.n AS day) AS d
        CROSS JOIN LATERAL (
            SELECT (d.day + z.start_local) AT TIME ZONE z.zone AS s,
                   (d.day + z.end_local
                    + CASE WHEN z.end_local <= z.start_local THEN interval '1 day'
                           ELSE interval '0' END) AT TIME ZONE z.zone AS e) AS o
        WHERE extract(isodow FROM d.day)::integer = ANY (z.days)
          AND o.e > o.s AND o.e > t0 AND o.s < t1
    ),
    -- per kind: every edge cuts [t0, t1) into pieces in which the same
    -- occurrences are in force
    edges AS (
        SELECT k.kind, t0 AS at FROM job_kinds k
        UNION SELECT k.kind, t1 FROM job_kinds k
        UNION SELECT o.kind, o.s FROM occ o
        UNION SELECT o.kind, o.e FROM occ o
    ),
    pieces AS (
        SELECT e.kind, e.at AS s, lead(e.at) OVER (PARTITION BY e.kind ORDER BY e.at) AS e,
               floor(extract(epoch FROM e.at - t0) / 86400)::integer AS day
        FROM edges e
    ),
    -- which occurrences cover a piece is a range join; pairing each
    -- occurrence with the UTC days since t0 it touches (at most three: an
    -- occurrence lasts at most 25 hours) gives it an equality key, so each
    -- piece is compared with the occurrences of its day, not of the horizon
    occ_days AS (
        SELECT o.*, d.day
        FROM occ o
        CROSS JOIN LATERAL generate_series(
            floor(extract(epoch FROM o.s - t0) / 86400)::integer,
            floor(extract(epoch FROM o.e - t0) / 86400)::integer) AS d (day)
    ),
    -- overlapping windows of one kind: the highest boost, the smallest share
    valued AS (
        SELECT p.kind, p.s, p.e,
               coalesce(max(o.boost), 0) AS boost,
               coalesce(min(o.max_share), 1.000) AS max_share
        FROM pieces p
        LEFT JOIN occ_days o ON o.kind = p.kind AND o.day = p.day
                            AND o.s <= p.s AND o.e >= p.e
        WHERE p.e IS NOT NULL
        GROUP BY p.kind, p.s, p.e
    ),
    -- merge neighbours with equal values
    marked AS (
        SELECT v.*,
               CASE WHEN lag(v.boost) OVER k = v.boost
                     AND lag(v.max_share) OVER k = v.max_share THEN 0 ELSE 1 END AS starts
        FROM valued v
        WINDOW k AS (PARTITION BY v.kind ORDER BY v.s)
    ),
    runs AS (
        SELECT m.*, sum(m.starts) OVER (PARTITION BY m.kind ORDER BY m.s) AS run
        FROM marked m
    )
    SELECT min(r.s), max(r.e), r.kind, r.boost, r.max_share::numeric
    FROM runs r
    GROUP BY r.kind, r.run, r.boost, r.max_share
    ORDER BY 1, 3;
END
$$;
COMMENT ON FUNCTION cbq_policy_timeline(timestamptz, interval) IS
    'The policy as UTC intervals covering [now, now + horizon): for every job kind, rows that partition the range into maximal pieces of constant boost and max_share, ordered by start_at, kind. A kind with no window in force has boost 0 and max_share 1.0; overlapping windows of one kind combine to the highest boost and the smallest share. Correct across daylight-saving changes (window edges are local wall-clock times). horizon must be more than 0 and at most 31 days (a day = 24 h); errors name the argument.';

-- ---- fair share -----------------------------------------------------------------

-- Decayed usage: an instance used at time t counts 2^(-(now - t) / H)
-- instance-hours per hour, H = policy_settings.fair_share_half_life. A job
-- of n instances that held them over [a, b] therefore counts
--     n * (H / ln 2) * (2^(-(now - b) / H) - 2^(-(now - a) / H))   (hours)
-- which is n * (b - a) when H is long, and half of that for use one half-life
-- ago. "Held" is read from job_events: from each transition into running or
-- expiring to the job's next transition (or now, or its ended_at, whichever
-- is first), so the attempts of a requeued job all count. Events at or after
-- now are ignored. Jobs that ended more than 20 half-lives before now are
-- skipped: they would add less than a millionth of their hours.
CREATE FUNCTION cbq_team_usage_decayed(now timestamptz)
    RETURNS TABLE (team text, instance_hours double precision)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
#variable_conflict use_column
DECLARE
    t0 timestamptz := cbq_team_usage_decayed.now;
    t0_s double precision;
    h_s double precision;
BEGIN
    IF t0 IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'cbq_team_usage_decayed: now must not be NULL';
    END IF;
    t0_s := extract(epoch FROM t0);
    h_s := coalesce((SELECT extract(epoch FROM s.fair_share_half_life) FROM policy_settings s),
                    7 * 86400);

    RETURN QUERY
    WITH ev AS (
        SELECT j.team, j.instance_count AS n, e.to_state,
               extract(epoch FROM e.at) AS a,
               least(coalesce(lead(extract(epoch FROM e.at))
                                  OVER (PARTITION BY e.job_id ORDER BY e.at, e.id), t0_s),
                     coalesce(extract(epoch FROM j.ended_at), t0_s),
                     t0_s) AS b
        FROM jobs j
        JOIN job_events e ON e.job_id = j.id
        WHERE e.at < t0
          AND (j.ended_at IS NULL OR extract(epoch FROM j.ended_at) > t0_s - 20 * h_s)
    ),
    held AS (
        SELECT ev.team,
               ev.n * (h_s / ln(2)) * (power(2, -(t0_s - ev.b) / h_s)
                                       - power(2, -(t0_s - ev.a) / h_s)) / 3600 AS hours
        FROM ev
        WHERE ev.to_state IN ('running', 'expiring') AND ev.b > ev.a
    )
    SELECT t.name, coalesce(sum(h.hours), 0)::double precision
    FROM teams t LEFT JOIN held h ON h.team = t.name
    GROUP BY t.name
    ORDER BY t.name;
END
$$;
COMMENT ON FUNCTION cbq_team_usage_decayed(timestamptz) IS
    'Per team (every team, 0 when idle): instance-hours used up to now, each hour weighted 2^(-age / fair_share_half_life); usage is read from job_events (time in running or expiring) times the job''s instance_count.';

-- ---- views ----------------------------------------------------------------------

CREATE VIEW v_policy_now AS
    SELECT t.kind, t.boost, t.max_share,
           CASE WHEN t.end_at < now() + interval '168 hours' THEN t.end_at END AS until
    FROM cbq_policy_timeline(now(), interval '168 hours') AS t
    WHERE t.start_at = now();
COMMENT ON VIEW v_policy_now IS 'The policy in force now per kind, and until when it holds (NULL = at least a week).';
COMMENT ON COLUMN v_policy_now.kind IS 'Job kind.';
COMMENT ON COLUMN v_policy_now.boost IS 'Priority points added to its jobs now.';
COMMENT ON COLUMN v_policy_now.max_share IS 'Largest fraction of the capacity cbq can use its jobs may hold now.';
COMMENT ON COLUMN v_policy_now.until IS 'When boost or share next changes; NULL when not within a week.';

CREATE VIEW v_team_usage_decayed AS
    SELECT u.team, u.instance_hours FROM cbq_team_usage_decayed(now()) AS u;
COMMENT ON VIEW v_team_usage_decayed IS 'cbq_team_usage_decayed(now()): each team''s decayed instance-hours.';
COMMENT ON COLUMN v_team_usage_decayed.team IS 'Team name.';
COMMENT ON COLUMN v_team_usage_decayed.instance_hours IS 'Instance-hours used, each weighted by 2^(-age / half-life).';

-- ---- replan on change ------------------------------------------------------------

-- NOTIFY is delivered at COMMIT (never for a rolled-back change) and Postgres
-- folds identical notifications of one transaction into one, so a bulk edit
-- wakes the broker once per table. The payload is the table's name.
CREATE FUNCTION cbq_policy_notify() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('cbq_policy', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION cbq_policy_notify() IS
    'Statement trigger: NOTIFY cbq_policy, payload = the changed table, so the broker replans within a second of the COMMIT.';
CREATE TRIGGER policy_settings_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_settings
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_notify();
CREATE TRIGGER policy_windows_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_windows
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_notify();
CREATE TRIGGER team_quotas_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON team_quotas
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_notify();
-- team priority and the set of kinds feed the plan as well
CREATE TRIGGER teams_notify AFTER INSERT OR UPDATE OR DELETE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_notify();
CREATE TRIGGER job_kinds_notify AFTER INSERT OR UPDATE OR DELETE ON job_kinds
    FOR EACH STATEMENT EXECUTE FUNCTION cbq_policy_notify();
