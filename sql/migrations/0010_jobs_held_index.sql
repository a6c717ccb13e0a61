-- The jobs that hold or are taking instances (launching, running, expiring)
-- are few beside the queue, but the scheduler's snapshot, the reconciler and
-- the per-block counts looked for them with a scan of every job: 50 ms at
-- 30,000 queued, on every cycle. Queued jobs are not in this index, so a
-- submit does not pay for it.
CREATE INDEX jobs_held ON jobs (block_id) WHERE state IN ('launching', 'running', 'expiring');
