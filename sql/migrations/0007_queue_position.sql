-- Queue positions (the API's Job.queue_position): a queued job's rank by
-- expected start is 1 + the queued jobs with an earlier eta, or the same eta
-- and a smaller id; jobs without an eta come last, by id. This partial index
-- holds exactly the queued jobs in that order (btree puts NULLs last), so
-- one job's position is a count over an index prefix and a page of jobs is
-- ranked in one ordered pass, without sorting 100,000 queued rows.
CREATE INDEX jobs_queue_order ON jobs (eta, id) WHERE state = 'queued';
