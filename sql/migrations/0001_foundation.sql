-- 0001: teams, accounts, admins, kinds, blocks and their consumers, jobs and
-- their events. Forward-only: later changes are new files. `cbqd migrate`
-- runs each file in one transaction and records it in schema_migrations.

-- Unix milliseconds, the unit of the wire API.
CREATE FUNCTION cbq_ms(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (extract(epoch FROM t) * 1000)::bigint;

CREATE TABLE teams (
    name        text PRIMARY KEY
                CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    priority    integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE teams IS 'A team owns accounts and jobs; priority adds to every job of the team.';

CREATE TABLE accounts (
    account_id   text PRIMARY KEY CHECK (account_id ~ '^[0-9]{12}$'),
    team         text NOT NULL REFERENCES teams (name) ON UPDATE CASCADE,
    role_arn     text NOT NULL
                 CHECK (role_arn ~ '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$'
                        AND length(role_arn) <= 2048),
    external_id  text CHECK (external_id ~ '^[A-Za-z0-9+=,.@:/-]+$'
                        AND length(external_id) BETWEEN 2 AND 1224),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_team ON accounts (team);
-- jobs reference (account_id, team): a job's account belongs to the job's team.
ALTER TABLE accounts ADD CONSTRAINT accounts_account_team UNIQUE (account_id, team);
COMMENT ON TABLE accounts IS 'AWS accounts teams launch into; cbqd assumes role_arn (with external_id) there.';

CREATE TABLE admins (
    principal   text PRIMARY KEY CHECK (length(principal) BETWEEN 1 AND 2048),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE admins IS 'Principals (IAM ARNs) that see per-account usage and every job, and may cancel any.';

CREATE TABLE job_kinds (
    kind         text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_-]{0,31}$'),
    description  text NOT NULL DEFAULT ''
);
COMMENT ON TABLE job_kinds IS 'The kinds a job may declare; policy windows refer to them.';
INSERT INTO job_kinds (kind, description) VALUES
    ('training',  'long batch training runs, favoured by day'),
    ('inference', 'serving and batch inference, favoured by night'),
    ('research',  'experiments and evaluation');

CREATE TABLE blocks (
    id                text PRIMARY KEY CHECK (id ~ '^cr-[0-9a-f]{8,17}$'),
    owner_account_id  text NOT NULL CHECK (owner_account_id ~ '^[0-9]{12}$'),
    region            text NOT NULL DEFAULT '',
    az                text NOT NULL CHECK (az ~ '^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$'),
    instance_type     text NOT NULL CHECK (instance_type ~ '^[a-z][a-z0-9-]*\.[a-z0-9-]+$'),
    total             integer NOT NULL CHECK (total > 0),
    available         integer NOT NULL CHECK (available >= 0 AND available <= total),
    state             text NOT NULL CHECK (state IN ('payment-pending', 'payment-failed',
                          'scheduled', 'active', 'expired', 'cancelled', 'failed')),
    start_at          timestamptz NOT NULL,
    end_at            timestamptz NOT NULL CHECK (end_at > start_at),
    source            text NOT NULL DEFAULT 'static' CHECK (source IN ('static', 'ec2')),
    synced_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE blocks IS 'Capacity Blocks cbq may place jobs on; cutoff (AWS terminates from there) is end_at - 30 minutes.';

-- Accounts a block is shared with. The owner may always use its block and is
-- not listed here.
CREATE TABLE block_consumers (
    block_id    text NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
    account_id  text NOT NULL CHECK (account_id ~ '^[0-9]{12}$'),
    PRIMARY KEY (block_id, account_id)
);
CREATE INDEX block_consumers_account ON block_consumers (account_id);

-- The owner's view of who uses a block (GetCapacityReservationUsage).
CREATE TABLE block_usage (
    block_id    text NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
    account_id  text NOT NULL CHECK (account_id ~ '^[0-9]{12}$'),
    used        integer NOT NULL CHECK (used >= 0),
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (block_id, account_id)
);

CREATE TABLE jobs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team                text NOT NULL REFERENCES teams (name) ON UPDATE CASCADE,
    account_id          text NOT NULL,
    name                text NOT NULL DEFAULT '' CHECK (length(name) <= 128),
    kind                text NOT NULL CONSTRAINT jobs_kind_known REFERENCES job_kinds (kind),
    instance_type       text NOT NULL,
    instance_count      integer NOT NULL CHECK (instance_count BETWEEN 1 AND 64),
    duration_s          bigint NOT NULL CHECK (duration_s BETWEEN 60 AND 1209600),
    priority            integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    checkpointable      boolean NOT NULL DEFAULT false,
    -- launch spec
    image_id            text NOT NULL DEFAULT '',
    subnet_id           text NOT NULL DEFAULT '',
    security_group_ids  text[] NOT NULL DEFAULT '{}',
    key_name            text NOT NULL DEFAULT '',
    user_data           bytea NOT NULL DEFAULT '' CHECK (length(user_data) <= 16384),
    instance_profile    text NOT NULL DEFAULT '',
    tags                jsonb NOT NULL DEFAULT '[]',  -- [{"key": ..., "value": ...}]
    -- where it stands
    state               text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'launching',
                            'running', 'expiring', 'succeeded', 'failed', 'timed_out',
                            'expired', 'cancelled')),
    reason              text NOT NULL DEFAULT '',
    eta                 timestamptz,
    block_id            text REFERENCES blocks (id),
    attempt             integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    submitted_at        timestamptz NOT NULL,
    started_at          timestamptz,
    ended_at            timestamptz,
    updated_at          timestamptz NOT NULL,
    submitted_by        text NOT NULL,
    idempotency_key     text CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    request_sha256      bytea,
    CONSTRAINT jobs_account_of_team FOREIGN KEY (account_id, team)
        REFERENCES accounts (account_id, team) ON UPDATE CASCADE,
    CONSTRAINT jobs_idempotency UNIQUE (team, idempotency_key)
);
CREATE INDEX jobs_team_id ON jobs (team, id DESC);
CREATE INDEX jobs_pending ON jobs (state, id) WHERE state IN ('queued', 'launching');
COMMENT ON TABLE jobs IS 'Every job; state changes go through one conditional UPDATE plus a job_events row.';

CREATE TABLE job_instances (
    job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    instance_id  text NOT NULL CHECK (instance_id ~ '^i-[0-9a-f]{8,17}$'),
    attempt      integer NOT NULL,
    state        text NOT NULL DEFAULT 'pending',
    launched_at  timestamptz NOT NULL,
    PRIMARY KEY (job_id, instance_id)
);

CREATE TABLE job_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    actor       text NOT NULL,
    reason      text NOT NULL DEFAULT ''
);
CREATE INDEX job_events_job ON job_events (job_id, id);
COMMENT ON TABLE job_events IS 'Append-only: every transition of every job, who made it and why.';
