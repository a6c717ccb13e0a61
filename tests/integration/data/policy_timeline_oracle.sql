-- An oracle for cbq_policy_timeline(), run by test_policy_sql.c: for random
-- policies (zones with DST, including 30- and 45-minute offsets and Lord
-- Howe's half-hour shift; windows crossing midnight; overlaps) and random
-- instants, the timeline's row covering an instant must hold what reading the
-- windows in local wall-clock time at that instant says: the highest boost
-- and smallest share of the windows in force, else boost 0 and share 1.
-- Window edges avoid 01:00-04:59, where these zones' clocks jump, because
-- there an edge's instant is a convention (see the migration), not a reading.
-- Deterministic (setseed); raises on the first disagreement, naming it.
DO $oracle$
DECLARE
    zones text[] := ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
                          'Asia/Kathmandu', 'Pacific/Chatham'];
    t0 timestamptz;
    h interval;
    bad record;
    checks bigint := 0;
BEGIN
    FOR seed IN 1..30 LOOP
        PERFORM setseed(seed / 1000.0);
        DELETE FROM policy_windows;
        UPDATE policy_settings SET time_zone = zones[1 + floor(random() * 6)::int];
        INSERT INTO policy_windows (kind, days, start_local, end_local, boost, max_share, time_zone)
        SELECT (ARRAY['training', 'inference', 'research'])[1 + floor(random() * 3)::int],
               (SELECT array_agg(DISTINCT 1 + floor(random() * 7)::int)
                FROM generate_series(1, 1 + floor(random() * 7)::int) WHERE g > 0),
               make_time((ARRAY[0,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23])[1 + floor(random() * 20)::int],
                         (ARRAY[0, 15, 30, 45, 59])[1 + floor(random() * 5)::int], 0),
               make_time((ARRAY[0,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23])[1 + floor(random() * 20)::int],
                         (ARRAY[0, 15, 30, 45, 59])[1 + floor(random() * 5)::int], 0),
               floor(random() * 401 - 200)::int, round(random()::numeric, 3),
               (ARRAY[NULL, NULL, NULL] || zones)[1 + floor(random() * 9)::int]
        FROM generate_series(1, 1 + floor(random() * 8)::int) AS g;
        t0 := '2026-01-01T00:00Z'::timestamptz + make_interval(secs => floor(random() * 365 * 86400));
        h := make_interval(secs => 1 + floor(random() * 31 * 86400));
        SELECT * INTO bad FROM (
            WITH tl AS MATERIALIZED (SELECT * FROM cbq_policy_timeline(t0, h)),
            samples AS MATERIALIZED (
                SELECT t0 + make_interval(secs => random() * extract(epoch FROM h)) AS t
                FROM generate_series(1, 300)),
            oracle AS (
                SELECT s.t, k.kind, coalesce(max(o.boost), 0) AS boost,
                       coalesce(min(o.max_share), 1) AS max_share
                FROM samples s CROSS JOIN job_kinds k
                LEFT JOIN LATERAL (
                    SELECT w.boost, w.max_share
                    FROM policy_windows w
                    CROSS JOIN LATERAL (SELECT s.t AT TIME ZONE coalesce(w.time_zone,
                                           (SELECT p.time_zone FROM policy_settings p)) AS l) AS x
                    WHERE w.kind = k.kind
                      AND CASE WHEN w.end_local > w.start_local THEN
                               extract(isodow FROM x.l)::int = ANY (w.days)
                               AND x.l::time >= w.start_local AND x.l::time < w.end_local
                          ELSE (extract(isodow FROM x.l)::int = ANY (w.days)
                                AND x.l::time >= w.start_local)
                               OR (extract(isodow FROM x.l - interval '1 day')::int = ANY (w.days)
                                   AND x.l::time < w.end_local) END) AS o ON true
                GROUP BY s.t, k.kind)
            SELECT o.t, o.kind, o.boost AS want_boost, o.max_share AS want_share,
                   tl.boost AS got_boost, tl.max_share AS got_share, count(*) OVER () AS n
            FROM oracle o
            LEFT JOIN tl ON tl.kind = o.kind AND tl.start_at <= o.t AND o.t < tl.end_at
            ) AS c
        WHERE c.got_boost IS DISTINCT FROM c.want_boost OR c.got_share IS DISTINCT FROM c.want_share
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'seed %: at % UTC (now %, horizon %) % has boost %, share % in the timeline; local time says %, %',
                seed, bad.t AT TIME ZONE 'UTC', t0 AT TIME ZONE 'UTC', h, bad.kind,
                bad.got_boost, bad.got_share, bad.want_boost, bad.want_share;
        END IF;
    END LOOP;
END
$oracle$;
