-- Counts of hidden rows are kept only in decades (package internal/coarse):
-- an exact number of suppressed rows is a channel (a query whose number of
-- suppressed groups depends on one person's value would publish it).
-- rows_suppressed becomes the decade ('0', '1-9', '10-99', …) of what it
-- held, and cells_suppressed, the aggregate cells of kept rows set to NULL
-- for being backed by fewer than min_group_size people, is added in the
-- same form. Conventions as in 00001.

-- +goose Up
ALTER TABLE query_runs DROP CONSTRAINT query_runs_rows_suppressed_check;
ALTER TABLE query_runs ALTER COLUMN rows_suppressed DROP DEFAULT;
ALTER TABLE query_runs ALTER COLUMN rows_suppressed TYPE text USING CASE
    WHEN rows_suppressed <= 0 THEN '0'
    ELSE (10::numeric ^ floor(log(rows_suppressed::numeric)))::bigint::text || '-'
        || ((10::numeric ^ (floor(log(rows_suppressed::numeric)) + 1))::bigint - 1)::text
END;
ALTER TABLE query_runs ALTER COLUMN rows_suppressed SET DEFAULT '0';
ALTER TABLE query_runs ADD CONSTRAINT query_runs_rows_suppressed_check CHECK (rows_suppressed ~ '^(0|1(0*)-(9*))$');
ALTER TABLE query_runs
    ADD COLUMN cells_suppressed text NOT NULL DEFAULT '0'
        CONSTRAINT query_runs_cells_suppressed_check CHECK (cells_suppressed ~ '^(0|1(0*)-(9*))$');

COMMENT ON COLUMN query_runs.rows_suppressed IS 'rows dropped by the group-size filter, as a decade: 0, 1-9, 10-99, …';
COMMENT ON COLUMN query_runs.cells_suppressed IS 'aggregate cells of kept rows set to NULL, as a decade: 0, 1-9, 10-99, …';

-- +goose Down
ALTER TABLE query_runs DROP COLUMN cells_suppressed;
ALTER TABLE query_runs DROP CONSTRAINT query_runs_rows_suppressed_check;
ALTER TABLE query_runs ALTER COLUMN rows_suppressed DROP DEFAULT;
-- The exact numbers are gone: each decade goes back as its lowest value.
ALTER TABLE query_runs ALTER COLUMN rows_suppressed TYPE bigint USING split_part(rows_suppressed, '-', 1)::bigint;
ALTER TABLE query_runs ALTER COLUMN rows_suppressed SET DEFAULT 0;
ALTER TABLE query_runs ADD CONSTRAINT query_runs_rows_suppressed_check CHECK (rows_suppressed >= 0);
