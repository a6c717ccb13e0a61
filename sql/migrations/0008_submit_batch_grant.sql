-- The batch submit (broker/db/jobs.c, submit_many_sql) takes each new job's
-- id with an explicit nextval() on the identity sequence, so that every
-- inserted row can be matched to its request; unlike the column's own
-- default, an explicit nextval() needs USAGE on the sequence. Without it
-- every batch failed for cbq_broker and fell back to one statement per job.
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO cbq_broker',
                   pg_get_serial_sequence('jobs', 'id'));
END
$$;
