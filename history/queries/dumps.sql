-- Queries of the dump history: dumps (metricgate dump) and their loads into
-- the warehouse (metricgate load). "Newest" is the highest id.

-- name: InsertDump :one
INSERT INTO dumps (
    "group", status, error, location, snapshot_time, tables, files, rows, bytes,
    config_sha256, started_at, finished_at, kind, base
) VALUES (
    @group_path, @status, @error, @location, sqlc.narg(snapshot_time), @tables, @files, @rows, @bytes,
    @config_sha256, @started_at, sqlc.narg(finished_at), @kind, @base
)
RETURNING id;

-- name: UpdateDump :execrows
-- Every field but the id and the start time.
UPDATE dumps
SET "group" = @group_path,
    status = @status,
    error = @error,
    location = @location,
    snapshot_time = sqlc.narg(snapshot_time),
    tables = @tables,
    files = @files,
    rows = @rows,
    bytes = @bytes,
    config_sha256 = @config_sha256,
    finished_at = sqlc.narg(finished_at),
    kind = @kind,
    base = @base
WHERE id = @id;

-- name: ListDumps :many
-- Newest first; a NULL max_rows means all.
SELECT * FROM dumps
ORDER BY id DESC
LIMIT sqlc.narg(max_rows);

-- name: InsertDumpLoad :one
INSERT INTO dump_loads (
    location, status, error, snapshot_time, tables, rows, started_at, finished_at, kind
) VALUES (
    @location, @status, @error, sqlc.narg(snapshot_time), @tables, @rows, @started_at, sqlc.narg(finished_at), @kind
)
RETURNING id;

-- name: UpdateDumpLoad :execrows
-- Every field but the id and the start time.
UPDATE dump_loads
SET location = @location,
    status = @status,
    error = @error,
    snapshot_time = sqlc.narg(snapshot_time),
    tables = @tables,
    rows = @rows,
    finished_at = sqlc.narg(finished_at),
    kind = @kind
WHERE id = @id;

-- name: ListDumpLoads :many
-- Newest first; a NULL max_rows means all.
SELECT * FROM dump_loads
ORDER BY id DESC
LIMIT sqlc.narg(max_rows);

-- name: LastDumpLoad :one
-- The newest succeeded load.
SELECT * FROM dump_loads
WHERE status = 'succeeded'
ORDER BY id DESC
LIMIT 1;

-- name: ListDumpWatermarks :many
-- The watermarks of a group's incremental tables.
SELECT table_name, watermark, location FROM dump_watermarks
WHERE "group" = @group_path
ORDER BY table_name;

-- name: UpsertDumpWatermark :exec
INSERT INTO dump_watermarks ("group", table_name, watermark, location, updated_at)
VALUES (@group_path, @table_name, @watermark, @location, now())
ON CONFLICT ("group", table_name) DO UPDATE
SET watermark = excluded.watermark, location = excluded.location, updated_at = excluded.updated_at;

-- name: DeleteDumpWatermarks :exec
-- Forget a group's watermarks of other locations than the committed one
-- (tables no longer incremental).
DELETE FROM dump_watermarks WHERE "group" = @group_path AND location <> @location;

-- name: SucceededDumpsSince :many
-- The succeeded dumps that finished at or after @since, and the newest
-- one of each group before: what the data was over a window. Oldest first.
SELECT * FROM dumps
WHERE status = 'succeeded'
  AND (finished_at >= @since::timestamptz
       OR id IN (SELECT DISTINCT ON (d."group") d.id FROM dumps d
                 WHERE d.status = 'succeeded' AND d.finished_at < @since::timestamptz
                 ORDER BY d."group", d.finished_at DESC, d.id DESC))
ORDER BY id;

-- name: SucceededDumpLoadsSince :many
-- The succeeded loads that finished at or after @since, and the newest one
-- before. Oldest first.
SELECT * FROM dump_loads
WHERE status = 'succeeded'
  AND (finished_at >= @since::timestamptz
       OR id = (SELECT l.id FROM dump_loads l
                WHERE l.status = 'succeeded' AND l.finished_at < @since::timestamptz
                ORDER BY l.finished_at DESC, l.id DESC LIMIT 1))
ORDER BY id;
