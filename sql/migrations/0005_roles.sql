-- 0005: least-privilege database roles. cbqd serve connects as cbq_broker;
-- people and `cbqd admin` as cbq_platform; dashboards as cbq_dashboard. The
-- migrating user (`cbqd migrate`, the database owner) keeps owning every
-- object and stays the only one that may change the schema.
--
--   cbq_broker     what `cbqd serve` runs, nothing more: reads teams,
--                  accounts, admins, kinds and policy; writes jobs, their
--                  events and instances, and the EC2 mirror of blocks.
--   cbq_platform   reads everything; edits teams, accounts, admins, kinds,
--                  policy, quotas and the static block inventory (all that
--                  `cbqd admin` does). Never writes jobs or their history.
--   cbq_dashboard  reads the v_* views and nothing else: no base table, no
--                  launch spec (user data, keys, images).
--
-- The roles are cluster-wide, created here when missing (several cbq
-- databases in one cluster share them; an operator may also create them
-- beforehand, then the migrating user needs no CREATEROLE). They are LOGIN
-- roles without a password: the operator sets one (ALTER ROLE cbq_broker
-- PASSWORD ...) or admits them through pg_hba.conf (peer, cert), or grants
-- a role to a person's own login (GRANT cbq_platform TO alice).
--
-- This database: PUBLIC loses CONNECT and TEMPORARY (the three roles get
-- CONNECT), CREATE on the schema, and EXECUTE on cbq's functions, now and
-- for functions the migrating user creates later.
--
-- EVERY LATER MIGRATION THAT ADDS A TABLE, VIEW OR FUNCTION MUST ADD ITS
-- GRANTS here-style: SELECT for cbq_platform always, what cbqd needs for
-- cbq_broker, SELECT for cbq_dashboard on a v_* view (plus EXECUTE on the
-- functions the view calls, which run SECURITY DEFINER when they read
-- tables). integ.db_roles fails when a v_* view is not readable by
-- cbq_dashboard, when cbq_dashboard can read or call anything else, or when
-- cbq_platform cannot read a table; the integration suite runs cbqd as
-- cbq_broker and `cbqd admin` as cbq_platform. CREATE OR REPLACE FUNCTION
-- resets SECURITY DEFINER and SET search_path: repeat the ALTER below.

-- ---- the roles -----------------------------------------------------------------

-- Two migrations of different databases may race here: whichever loses gets
-- duplicate_object or (from the catalog's unique index) unique_violation.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cbq_broker', 'cbq_platform', 'cbq_dashboard'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                               ' NOREPLICATION NOBYPASSRLS', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- ---- what PUBLIC had -------------------------------------------------------------

DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO cbq_broker, cbq_platform, cbq_dashboard',
                   current_database());
    -- Postgres 15 no longer grants CREATE on public to PUBLIC; older
    -- clusters upgraded in place still do
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cbq_broker, cbq_platform, cbq_dashboard',
                   current_schema());
    EXECUTE format('REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC', current_schema());
END
$$;
-- functions the migrating user creates from now on in this database
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- Trigger functions need no EXECUTE grant (Postgres checks it when the
-- trigger is created, not when it fires); functions called from triggers,
-- CHECK constraints and queries do.

-- ---- views that read tables through functions --------------------------------------

-- A view reads tables with its owner's rights, but a function it calls runs
-- with the caller's, and its EXECUTE is checked against the caller: so the
-- functions behind v_policy_now and v_team_usage_decayed run as their owner,
-- with a fixed search_path (this schema, then pg_temp) so that a caller's
-- objects cannot stand in for ours. They only read.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION cbq_policy_timeline(timestamptz, interval)'
                   ' SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION cbq_team_usage_decayed(timestamptz)'
                   ' SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
END
$$;

-- ---- cbq_broker: the SQL of broker/db/*.c ----------------------------------------------

GRANT SELECT ON schema_migrations TO cbq_broker;           -- serve's schema check
GRANT SELECT ON teams, accounts, admins, job_kinds,
                policy_settings, policy_windows, team_quotas TO cbq_broker;
GRANT SELECT, INSERT, UPDATE ON jobs TO cbq_broker;         -- submit, transitions, verdicts
GRANT SELECT, INSERT ON job_events, job_instances TO cbq_broker;
GRANT SELECT, INSERT, UPDATE ON blocks TO cbq_broker;       -- EC2 inventory upsert
GRANT SELECT, INSERT, DELETE ON block_consumers TO cbq_broker;
GRANT SELECT, INSERT, UPDATE, DELETE ON block_usage TO cbq_broker;
GRANT EXECUTE ON FUNCTION cbq_ms(timestamptz),
                          cbq_policy_timeline(timestamptz, interval),
                          cbq_team_usage_decayed(timestamptz),
                          cbq_principal_matches(text, text) TO cbq_broker;
-- Identity columns (jobs.id, job_events.id) need no sequence grant.

-- ---- cbq_platform: read all, edit policy and inventory -----------------------------------

GRANT SELECT ON schema_migrations, teams, accounts, admins, job_kinds, blocks, block_consumers,
                block_usage, jobs, job_instances, job_events, policy_settings, policy_windows,
                team_quotas, v_policy_now, v_team_usage_decayed TO cbq_platform;
GRANT INSERT, UPDATE, DELETE ON teams, accounts, admins, job_kinds, policy_windows, team_quotas,
                                blocks, block_consumers TO cbq_platform;
-- its single row is updated, never deleted (a trigger refuses); INSERT for
-- `cbqd admin policy timezone`'s INSERT ... ON CONFLICT DO UPDATE
GRANT INSERT, UPDATE ON policy_settings TO cbq_platform;
GRANT EXECUTE ON FUNCTION cbq_ms(timestamptz),
                          cbq_check_time_zone(text, text),
                          cbq_iso_days_valid(integer[]),
                          cbq_iso_days_text(integer[]),
                          cbq_policy_timeline(timestamptz, interval),
                          cbq_team_usage_decayed(timestamptz),
                          cbq_principal_matches(text, text) TO cbq_platform;

-- ---- cbq_dashboard: the v_* views --------------------------------------------------------

GRANT SELECT ON v_policy_now, v_team_usage_decayed TO cbq_dashboard;
GRANT EXECUTE ON FUNCTION cbq_policy_timeline(timestamptz, interval),
                          cbq_team_usage_decayed(timestamptz) TO cbq_dashboard;
