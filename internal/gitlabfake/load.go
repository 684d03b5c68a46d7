package gitlabfake

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// RootGroup is the path of the top-level group whose public projects the
// dump exports by default.
const RootGroup = "gitlab-org"

// CanaryPrefix starts every canary marker. No public row contains it.
const CanaryPrefix = "CANARY-"

// Options configures the generated data. The zero value is the default
// data set: scale 1, seed 0, as of 2026-11-01T00:00:00Z.
type Options struct {
	// Scale multiplies the number of users, community projects, issues and
	// merge requests, and with them every activity table. Default 1.
	Scale int
	// Seed selects one of many equally plausible data sets. Default 0.
	Seed int64
	// Now is the "as of" time: the activity covers the two years before
	// it and nothing happens after it. Default 2026-11-01T00:00:00Z.
	Now time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Scale < 0 {
		return o, fmt.Errorf("check options: negative scale %d", o.Scale)
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	return o, nil
}

// Stats describes a loaded data set.
type Stats struct {
	// Rows is the number of rows per table.
	Rows map[string]int64
	// Canaries is the number of canary markers planted.
	Canaries int
	// Duration is the wall time of Load.
	Duration time.Duration
}

// Total returns the number of rows over all tables.
func (s *Stats) Total() int64 {
	var n int64
	for _, r := range s.Rows {
		n += r
	}
	return n
}

// Canary is one planted marker: a unique string in one column of one row
// that must never leave the production side.
type Canary struct {
	// Marker is the string itself: CANARY-<table>-<column>-<id>, the id
	// zero-padded to 8 digits so that no marker is a prefix of another.
	Marker string
	// Table, Column and ID locate the row that holds the marker. Some
	// markers are also copied where GitLab copies the value: project and
	// group names and descriptions into namespaces (the project's own
	// namespace) and routes.name.
	Table  string
	Column string
	ID     int64
	// Reason says why the value is not public.
	Reason string
}

// Canaries returns every canary marker that Load plants for opts, in load
// order. It generates the data without a database, so it takes about as
// long as generating it does (well under a second at scale 1).
func Canaries(opts Options) ([]Canary, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	g := newGen(opts, true)
	for _, t := range g.tables() {
		t.rows(func(...any) bool { return true })
	}
	return g.canaries, nil
}

// Load creates the schema (see [Schema]) in the current database of conn
// and fills it with the data set of opts, in one transaction: tables first,
// rows copied in with COPY, then keys, indexes, sequences and ANALYZE. The
// database must not have the tables yet.
func Load(ctx context.Context, conn *pgx.Conn, opts Options) (*Stats, error) {
	start := time.Now()
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	g := newGen(opts, false)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin load: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // no-op after Commit
	// Index builds sort in memory rather than on disk.
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return nil, fmt.Errorf("set maintenance_work_mem: %w", err)
	}
	if _, err := tx.Exec(ctx, tablesDDL); err != nil {
		return nil, fmt.Errorf("create tables: %w", err)
	}
	stats := &Stats{Rows: map[string]int64{}}
	var names []string
	for _, t := range g.tables() {
		n, err := copyTable(ctx, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		stats.Rows[t.name] = n
		names = append(names, t.name)
	}
	if _, err := tx.Exec(ctx, constraintsDDL); err != nil {
		return nil, fmt.Errorf("add constraints: %w", err)
	}
	var setval strings.Builder
	for _, name := range names {
		if name == "banned_users" {
			continue // keyed by user_id, no sequence
		}
		fmt.Fprintf(&setval, "SELECT setval(pg_get_serial_sequence('%s', 'id'), greatest(max(id), 1)) FROM %s;\n", name, name)
	}
	if _, err := tx.Exec(ctx, setval.String()); err != nil {
		return nil, fmt.Errorf("set sequences: %w", err)
	}
	if _, err := tx.Exec(ctx, "ANALYZE "+strings.Join(names, ", ")); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit load: %w", err)
	}
	stats.Canaries = g.nCanary
	stats.Duration = time.Since(start)
	return stats, nil
}

// copyTable streams the rows of t into the database with COPY.
func copyTable(ctx context.Context, tx pgx.Tx, t table) (int64, error) {
	next, stop := iter.Pull(func(yield func([]any) bool) {
		t.rows(func(row ...any) bool { return yield(row) })
	})
	defer stop()
	src := pgx.CopyFromFunc(func() ([]any, error) {
		row, ok := next()
		if !ok {
			return nil, nil
		}
		if len(row) != len(t.columns) {
			return nil, errors.New("generator bug: row and column counts differ")
		}
		return row, nil
	})
	return tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src)
}
