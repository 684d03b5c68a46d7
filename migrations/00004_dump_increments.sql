-- Incremental dumps. Conventions as in 00001.
--
-- A dump is a full export of the scope or an increment on top of an earlier
-- dump (its base). dump_watermarks keeps, per group and incremental table,
-- the snapshot time the last committed dump (manifest written) read the
-- table at: the next increment exports the rows changed since then, less
-- an overlap. It is advanced only after the manifest is written.

-- +goose Up
ALTER TABLE dumps
    ADD COLUMN kind text NOT NULL DEFAULT 'full'
        CONSTRAINT dumps_kind_check CHECK (kind IN ('full', 'incremental')),
    -- The location of the dump an increment applies on; '' for a full dump.
    ADD COLUMN base text NOT NULL DEFAULT '';

ALTER TABLE dump_loads
    ADD COLUMN kind text NOT NULL DEFAULT 'full'
        CONSTRAINT dump_loads_kind_check CHECK (kind IN ('full', 'incremental'));

CREATE TABLE dump_watermarks (
    "group"    text        NOT NULL,
    table_name text        NOT NULL,
    -- The snapshot time of the dump at location, which read the table.
    watermark  timestamptz NOT NULL,
    -- The committed dump the watermark belongs to (dumps.location).
    location   text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("group", table_name)
);

COMMENT ON TABLE dump_watermarks IS 'metricgate incremental dumps: per group and table, the snapshot time of the last committed dump';

-- +goose Down
DROP TABLE dump_watermarks;
ALTER TABLE dump_loads DROP COLUMN kind;
ALTER TABLE dumps DROP COLUMN base, DROP COLUMN kind;
