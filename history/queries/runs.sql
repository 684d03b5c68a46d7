-- Queries of the history store; sqlc generates internal/db from them.
-- "Newest" is the highest id: ids are assigned when a run or query run
-- starts, so they follow start order and the indexes serve them directly.

-- name: InsertRun :one
INSERT INTO runs (trigger, approval, status, error, started_at, finished_at)
VALUES (@trigger, @approval, @status, @error, @started_at, sqlc.narg(finished_at))
RETURNING id;

-- name: FinishRun :execrows
UPDATE runs
SET status = @status, error = @error, finished_at = sqlc.narg(finished_at)
WHERE id = @id;

-- name: GetRun :one
SELECT r.id, r.trigger, r.approval, r.status, r.error, r.started_at, r.finished_at,
       c.queries, c.succeeded, c.failed, c.skipped
FROM runs r
CROSS JOIN LATERAL (
    SELECT count(*) AS queries,
           count(*) FILTER (WHERE q.status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE q.status = 'failed') AS failed,
           count(*) FILTER (WHERE q.status = 'skipped') AS skipped
    FROM query_runs q
    WHERE q.run_id = r.id
) c
WHERE r.id = @id;

-- name: ListRuns :many
-- Newest first; a NULL max_runs means all.
SELECT r.id, r.trigger, r.approval, r.status, r.error, r.started_at, r.finished_at,
       c.queries, c.succeeded, c.failed, c.skipped
FROM runs r
CROSS JOIN LATERAL (
    SELECT count(*) AS queries,
           count(*) FILTER (WHERE q.status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE q.status = 'failed') AS failed,
           count(*) FILTER (WHERE q.status = 'skipped') AS skipped
    FROM query_runs q
    WHERE q.run_id = r.id
) c
ORDER BY r.id DESC
LIMIT sqlc.narg(max_runs);

-- name: AbandonRuns :execrows
UPDATE runs
SET status = 'failed', error = @reason, finished_at = @finished_at::timestamptz
WHERE status = 'running';

-- name: InsertQueryRun :one
INSERT INTO query_runs (
    run_id, query, target, source, status, error, rows_loaded, rows_suppressed,
    cells_suppressed, attempts, cost, sha256, commit, approval, snapshot_time, started_at,
    finished_at, duration_us, mr_iid
) VALUES (
    @run_id, @query, @target, @source, @status, @error, @rows_loaded, @rows_suppressed,
    @cells_suppressed, @attempts, @cost, @sha256, @commit, @approval, sqlc.narg(snapshot_time), sqlc.narg(started_at),
    sqlc.narg(finished_at), @duration_us, sqlc.narg(mr_iid)
)
RETURNING id;

-- name: UpdateQueryRun :execrows
-- Every field but the identity (id, run_id, query).
UPDATE query_runs
SET target = @target,
    source = @source,
    status = @status,
    error = @error,
    rows_loaded = @rows_loaded,
    rows_suppressed = @rows_suppressed,
    cells_suppressed = @cells_suppressed,
    attempts = @attempts,
    cost = @cost,
    sha256 = @sha256,
    commit = @commit,
    approval = @approval,
    snapshot_time = sqlc.narg(snapshot_time),
    started_at = sqlc.narg(started_at),
    finished_at = sqlc.narg(finished_at),
    duration_us = @duration_us,
    mr_iid = sqlc.narg(mr_iid)
WHERE id = @id;

-- name: ListQueryRuns :many
SELECT * FROM query_runs
WHERE run_id = @run_id
ORDER BY id;

-- name: QueryHistory :many
-- Newest first; a NULL max_rows means all.
SELECT * FROM query_runs
WHERE query = @query
ORDER BY id DESC
LIMIT sqlc.narg(max_rows);

-- name: LatestQueryRuns :many
-- The newest query run of every query name, by name.
SELECT DISTINCT ON (query) * FROM query_runs
ORDER BY query, id DESC;

-- name: LastSuccess :one
SELECT * FROM query_runs
WHERE query = @query AND status = 'succeeded'
ORDER BY id DESC
LIMIT 1;

-- name: LastSuccessPerSource :many
-- The newest succeeded run of the query on each source it ever
-- succeeded on, by source (on query_runs_query_succeeded_idx).
SELECT DISTINCT ON (source) * FROM query_runs
WHERE query = @query AND status = 'succeeded'
ORDER BY source, id DESC;

-- name: AbandonQueryRuns :execrows
UPDATE query_runs
SET status = 'failed', error = @reason, finished_at = @finished_at::timestamptz
WHERE status = 'running';

-- name: SuccessesSince :many
-- The query's succeeded runs that finished at or after @since, and the
-- newest one of each source before: what its data was over a window.
-- Oldest first.
SELECT q.* FROM query_runs q
WHERE q.query = @query_name::text AND q.status = 'succeeded'
  AND (q.finished_at >= @since::timestamptz
       OR q.id IN (SELECT DISTINCT ON (r.source) r.id FROM query_runs r
                   WHERE r.query = @query_name::text AND r.status = 'succeeded' AND r.finished_at < @since::timestamptz
                   ORDER BY r.source, r.finished_at DESC, r.id DESC))
ORDER BY q.id;
