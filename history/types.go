package history

import (
	"errors"
	"time"

	"gitlab.com/metricgate/metricgate/internal/coarse"
)

// ErrNotFound is returned when a run or query run does not exist.
var ErrNotFound = errors.New("not found")

// RunStatus is the state of a run.
type RunStatus string

// Run states.
const (
	RunRunning   RunStatus = "running"   // started, not finished (or the process died: see Store.AbandonRunning)
	RunSucceeded RunStatus = "succeeded" // every query that ran succeeded
	RunPartial   RunStatus = "partial"   // some queries failed, some succeeded
	RunFailed    RunStatus = "failed"    // nothing succeeded, or the run could not start (stale source, …)
)

// QueryStatus is the outcome of one query in a run.
type QueryStatus string

// Query run states.
const (
	QueryRunning   QueryStatus = "running"
	QuerySucceeded QueryStatus = "succeeded"
	QueryFailed    QueryStatus = "failed"
	QuerySkipped   QueryStatus = "skipped" // not approved, or refused before it ran; Error says why
)

// Run is one run: every due query of the catalog, one snapshot per source.
type Run struct {
	ID int64
	// Trigger says what started the run: "schedule", "manual" (metricgate
	// run), "api", "catch-up", "demo".
	Trigger string
	// Approval is the approval mode in force: none, git or gitlab.
	Approval string
	Status   RunStatus
	// Error says why a run failed as a whole ("source main is 30h old …").
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	// Queries, Succeeded, Failed, Skipped count the run's query runs
	// (filled when read back).
	Queries, Succeeded, Failed, Skipped int
}

// QueryRun is one query's execution in a run.
type QueryRun struct {
	ID    int64
	RunID int64
	// Query is the query's name; Target its warehouse table.
	Query, Target string
	// Source is the source database's name.
	Source string
	Status QueryStatus
	// Error is the failure or skip reason, "" on success. Never holds data
	// rows or secrets.
	Error string
	// RowsLoaded went to the warehouse: exact, since those rows are
	// published anyway.
	RowsLoaded int64
	// RowsSuppressed were dropped by the group-size filter, and
	// CellsSuppressed are the aggregate cells of kept rows set to NULL for
	// being backed by fewer than min_group_size people: both only as a
	// decade ("0", "1-9", "10-99", …; see package coarse), since they are
	// read off hidden rows. The zero value reads as "0".
	RowsSuppressed, CellsSuppressed coarse.Count
	// Attempts is how many times the query was tried (retries of transient
	// errors).
	Attempts int
	// Cost is the EXPLAIN total cost.
	Cost float64
	// SHA256 is the hex SHA-256 of the query file.
	SHA256 string
	// Commit is the commit the file was approved at ("" with approval none).
	Commit string
	// Approval describes the approval: "none", "git <sha>", "gitlab !12 by @a, @b".
	Approval string
	// MRIID is the IID of the merge request through which the file was
	// approved (approval gitlab); 0 when none, stored as NULL.
	MRIID int64
	// SnapshotTime is the source's as-of time: what _snapshot_date records.
	SnapshotTime time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	Duration     time.Duration
}

// DumpStatus is the state of a dump or of a dump's load.
type DumpStatus string

// Dump and load states.
const (
	DumpRunning   DumpStatus = "running"
	DumpSucceeded DumpStatus = "succeeded"
	DumpFailed    DumpStatus = "failed"
	// DumpSkipped is a load that found nothing newer than what is loaded.
	DumpSkipped DumpStatus = "skipped"
)

// Dump is one export of the public projects of a group to object storage.
type Dump struct {
	ID int64
	// Group is the full path of the dumped group ("gitlab-org").
	Group  string
	Status DumpStatus
	// Error says why the dump failed; never data or secrets.
	Error string
	// Location is the dump's prefix in object storage
	// ("dumps/2026-12-01/17/"), without the bucket's URL or credentials.
	Location string
	// SnapshotTime is the time of the source snapshot the dump read.
	SnapshotTime time.Time
	// Tables, Files, Rows and Bytes count what the dump wrote.
	Tables, Files int
	Rows, Bytes   int64
	// ConfigSHA256 is the hex SHA-256 of dump.yml.
	ConfigSHA256 string
	// Kind is DumpFull (default) or DumpIncremental.
	Kind DumpKind
	// Base is the location of the dump an increment applies on; "" for a
	// full dump.
	Base       string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}

// DumpKind is what a dump holds: the whole scope or the changes since its
// base.
type DumpKind string

// Dump kinds.
const (
	DumpFull        DumpKind = "full"
	DumpIncremental DumpKind = "incremental"
)

// Watermark is the snapshot time of the last committed dump that read an
// incremental table: the next increment exports the rows changed since.
type Watermark struct {
	Table string
	// Time is the snapshot time of the dump at Location.
	Time     time.Time
	Location string
}

// DumpLoad is one load of a dump into the warehouse.
type DumpLoad struct {
	ID int64
	// Location is the loaded dump's prefix, as Dump.Location.
	Location string
	Status   DumpStatus
	// Error says why the load failed or was skipped.
	Error string
	// SnapshotTime is the loaded dump's snapshot time.
	SnapshotTime time.Time
	// Tables and Rows count what was loaded.
	Tables int
	Rows   int64
	// Kind is the loaded dump's kind: DumpFull (default) or
	// DumpIncremental.
	Kind       DumpKind
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}
