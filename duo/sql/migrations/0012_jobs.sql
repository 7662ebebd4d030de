-- duo schema, version 12: the embedded scheduler (scheduler.md).
--
-- * duo_job: what each scheduled job did last, written by the leader after every iteration
--   so that `duo jobs` (another process) and /health/details can show it.
-- * duo_job_leader: the process that holds the scheduler's advisory lock, and the backend
--   pid of the connection holding it (pg_locks tells whether that leader is still alive).
-- * verification_job.started_at: when the runner took the job, so a job stuck in `running`
--   (its runner died) is queued again after a timeout; raw_json may be NULL: no answer.

CREATE TABLE duo_job (
    name TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    dry_run BOOLEAN,
    last_started_at TIMESTAMPTZ,
    last_finished_at TIMESTAMPTZ,
    last_ok BOOLEAN,
    last_result TEXT NOT NULL DEFAULT '',
    consecutive_failures INT NOT NULL DEFAULT 0,
    runs INT NOT NULL DEFAULT 0,
    ran_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE duo_job_leader (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    process TEXT NOT NULL,
    backend_pid INT NOT NULL,
    since TIMESTAMPTZ NOT NULL
);

ALTER TABLE verification_job
    ADD COLUMN started_at TIMESTAMPTZ,
    ALTER COLUMN raw_json DROP NOT NULL;
