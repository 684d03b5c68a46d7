package dump

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// Warehouse is what the loader needs of a warehouse: load every table of
// a dump into staging and swap them all in at once, or change nothing;
// apply an increment the same way; and say, from its own ledger, which
// dumps it holds. warehouse/duckdb, warehouse/postgres and
// warehouse/snowflake implement it, and warehousetest.ExerciseDump checks
// each of them.
type Warehouse interface {
	// LoadDump replaces the tables of schema with tables, together: after
	// it returns nil, readers see every new table; after an error, every
	// previous one. Tables of schema that tables does not list are
	// dropped (the schema belongs to the dump), except the ledger
	// (LedgerTable), to which entry is added in the same transaction (or
	// swap): the tables and the ledger change together or not at all.
	// Each table's row count must equal DumpTable.Rows, or the load fails.
	LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error
	// ApplyIncrement applies one increment to the tables of schema, all
	// tables and the ledger entry in one transaction: after it returns nil
	// readers see every table changed and entry in the ledger, after an
	// error none of it. A table of Mode DumpFull replaces the table's
	// rows; a table of DumpIncremental deletes the rows whose Key is among
	// its Deletes or its upserts (Files) and inserts the upserts. Tables
	// the increment does not list stay as they are. Row counts must equal
	// Rows and DeleteRows.
	ApplyIncrement(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error
	// Ledger returns the entries of schema's ledger in the order they were
	// written (by Seq); none, and no error, when the schema or its ledger
	// does not exist (a new warehouse).
	Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error)
}

// LedgerTable is the warehouse's ledger in the dump's schema
// (warehouse.LedgerTable), which the loader reads to decide what to load.
const LedgerTable = warehouse.LedgerTable

// Held is the location of the dump the warehouse holds according to
// ledger: the last entry's; "" when there is none.
func Held(ledger []warehouse.LedgerEntry) string {
	if len(ledger) == 0 {
		return ""
	}
	return ledger[len(ledger)-1].Location
}

// LoadRecorder records loads in the history database (*history.Store),
// for the status API. It is optional: the loader decides what to load
// from the warehouse's ledger alone, and a recorder that fails costs a
// warning, never the load.
type LoadRecorder interface {
	StartDumpLoad(ctx context.Context, l history.DumpLoad) (int64, error)
	FinishDumpLoad(ctx context.Context, l history.DumpLoad) error
}

// LoadConfig configures a Loader. Zero values mean the defaults.
type LoadConfig struct {
	// Prefix is where dumps are in the bucket. Default "dumps/".
	Prefix string
	// Schema is the warehouse schema the dump's tables go to. Default
	// "gitlab_public".
	Schema string
	// Force loads the newest complete dump even when it is already loaded.
	Force bool
	// Tool is written to the ledger with every load: "metricgate
	// <version>". Default "metricgate".
	Tool string
}

// Loader loads the newest complete dump into the warehouse.
type Loader struct {
	cfg    LoadConfig
	bucket *blob.Bucket
	wh     Warehouse
	rec    LoadRecorder
	log    *slog.Logger
}

// NewLoader returns a Loader. rec may be nil: the loader needs only the
// bucket and the warehouse, whose ledger says what it holds; a recorder
// only copies each load into the history for the status API.
func NewLoader(cfg LoadConfig, b *blob.Bucket, wh Warehouse, rec LoadRecorder, log *slog.Logger) *Loader {
	cfg.Prefix = cmp.Or(cfg.Prefix, "dumps/")
	cfg.Schema = cmp.Or(cfg.Schema, "gitlab_public")
	cfg.Tool = cmp.Or(cfg.Tool, "metricgate")
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{cfg: cfg, bucket: b, wh: wh, rec: rec, log: log}
}

// LoadResult is what a load did.
type LoadResult struct {
	// Status is succeeded, skipped (already loaded) or failed.
	Status history.DumpStatus
	// Manifest is the newest complete dump, the one the warehouse holds
	// after a load that succeeded.
	Manifest *Manifest
	// Loaded are the dumps loaded in order: a full dump and increments
	// after it, or only increments on what the warehouse held.
	Loaded []*Manifest
	// Incomplete are dumps newer than the loaded one without a manifest.
	Incomplete []string
	// Held is what the warehouse held before, by its ledger: the location
	// of the last dump it loaded, "" for a new warehouse.
	Held     string
	Tables   int
	Rows     int64
	Duration time.Duration
}

// GapError is an increment whose base is not what the warehouse holds
// and not in storage either: it cannot be applied, and the warehouse is
// kept as it is until a full dump.
type GapError struct {
	Increment, Base, Held string
}

func (e *GapError) Error() string {
	held := e.Held
	if held == "" {
		held = "no dump"
	}
	return fmt.Sprintf("gap: increment %s applies on %s, which is not a complete dump in storage (failed, deleted or never written); "+
		"the warehouse holds %s and is kept as it is: the next full dump (metricgate dump --full, or dump.full_every) can be loaded", e.Increment, e.Base, held)
}

// Load finds the newest complete dump and brings the warehouse to it: a
// full dump replaces every table; an increment applies on its base,
// which the warehouse must hold, so Load applies the increments after
// what the warehouse holds in order, or, when it holds none of the
// chain, the chain's full dump first. What the warehouse holds is what
// its ledger says (the last entry); a new warehouse, or one restored
// without its dump schema, has no ledger and gets the newest full dump
// and its increments. Each dump is loaded in one warehouse transaction
// together with its ledger entry. A missing, truncated or corrupt file,
// or a gap in the chain, refuses the dump: the warehouse keeps what it
// had (after the last dump that loaded). Load reads only the bucket and
// the warehouse; the history, when there is one, only gets a copy.
func (l *Loader) Load(ctx context.Context) (*LoadResult, error) {
	start := time.Now()
	res := &LoadResult{Status: history.DumpFailed}
	dumps, err := listDumps(ctx, l.bucket, l.cfg.Prefix)
	if err != nil {
		return res, err
	}
	var newest *dumpDir
	complete := map[string]bool{}
	for i := len(dumps) - 1; i >= 0; i-- {
		if dumps[i].complete {
			complete[dumps[i].location] = true
			if newest == nil {
				newest = &dumps[i]
			}
		} else if newest == nil {
			res.Incomplete = append(res.Incomplete, dumps[i].location)
		}
	}
	for _, loc := range res.Incomplete {
		l.log.Warn("dump has no manifest: incomplete, not loaded", slog.String("location", loc))
	}
	if newest == nil {
		err := fmt.Errorf("no complete dump under %s (%d without %s): nothing to load", l.cfg.Prefix, len(dumps), ManifestName)
		l.record(ctx, history.DumpLoad{Status: history.DumpFailed, Error: err.Error(), StartedAt: start, FinishedAt: time.Now()})
		return res, err
	}
	ledger, err := l.wh.Ledger(ctx, l.cfg.Schema)
	if err != nil {
		err = fmt.Errorf("read the warehouse's ledger (%s.%s): %w", l.cfg.Schema, LedgerTable, err)
		l.record(ctx, history.DumpLoad{Location: newest.location, Status: history.DumpFailed, Error: err.Error(), StartedAt: start, FinishedAt: time.Now()})
		return res, err
	}
	held := Held(ledger)
	res.Held = held
	if held == newest.location && !l.cfg.Force {
		m, err := readManifest(ctx, l.bucket, newest.location)
		if err != nil {
			l.record(ctx, history.DumpLoad{Location: newest.location, Status: history.DumpFailed, Error: err.Error(), StartedAt: start, FinishedAt: time.Now()})
			return res, err
		}
		res.Manifest, res.Status = m, history.DumpSkipped
		why := "already loaded (the warehouse's ledger)"
		if len(res.Incomplete) > 0 {
			why += "; newer dumps without a manifest are not loaded: " + strings.Join(res.Incomplete, ", ")
		}
		l.record(ctx, history.DumpLoad{Location: m.Location, Status: history.DumpSkipped, Error: why, Kind: kindOf(m),
			SnapshotTime: m.SnapshotTime, StartedAt: start, FinishedAt: time.Now()})
		return res, nil
	}
	if l.cfg.Force {
		held = "" // reload from the chain's full dump
	}
	// The chain from the newest dump back to what the warehouse holds, or
	// to a full dump.
	var chain []*Manifest
	for loc := newest.location; ; {
		m, err := readManifest(ctx, l.bucket, loc)
		if err != nil {
			l.record(ctx, history.DumpLoad{Location: loc, Status: history.DumpFailed, Error: err.Error(), StartedAt: start, FinishedAt: time.Now()})
			return res, err
		}
		chain = append(chain, m)
		if !m.Incremental() {
			break
		}
		if m.Base == held {
			break
		}
		if !complete[m.Base] {
			err := &GapError{Increment: m.Location, Base: m.Base, Held: held}
			l.record(ctx, history.DumpLoad{Location: newest.location, Status: history.DumpFailed, Error: err.Error(), Kind: history.DumpIncremental,
				StartedAt: start, FinishedAt: time.Now()})
			return res, err
		}
		loc = m.Base
	}
	slices.Reverse(chain)
	res.Manifest = chain[len(chain)-1]
	for _, m := range chain {
		tables, rows, err := l.loadOne(ctx, m)
		res.Tables, res.Rows = tables, res.Rows+rows
		if err != nil {
			res.Duration = time.Since(start)
			return res, fmt.Errorf("load dump %s: %w", m.Location, err)
		}
		res.Loaded = append(res.Loaded, m)
	}
	res.Status, res.Duration = history.DumpSucceeded, time.Since(start)
	return res, nil
}

// bucketFile is the file f of a manifest, at key in b, verified as it
// is read.
func bucketFile(b *blob.Bucket, key string, f ManifestFile) *warehouse.DumpFile {
	return warehouse.NewDumpFile(key, f.Bytes, f.Rows, f.SHA256, func(ctx context.Context) (io.ReadCloser, error) {
		return b.NewReader(ctx, key, nil)
	})
}

func kindOf(m *Manifest) history.DumpKind {
	if m.Incremental() {
		return history.DumpIncremental
	}
	return history.DumpFull
}

// loadOne loads one dump, full or increment, with its ledger entry, and
// records it in the history when there is one.
func (l *Loader) loadOne(ctx context.Context, m *Manifest) (int, int64, error) {
	rec := history.DumpLoad{Location: m.Location, Status: history.DumpRunning, SnapshotTime: m.SnapshotTime, StartedAt: time.Now(), Kind: kindOf(m)}
	if l.rec != nil {
		id, err := l.rec.StartDumpLoad(ctx, rec)
		if err != nil {
			l.log.Warn("record dump load in the history (optional; the warehouse's ledger records it)", slog.String("location", m.Location), slog.String("error", err.Error()))
		}
		rec.ID = id
	}
	tables, err := l.check(ctx, m)
	if err == nil {
		entry := warehouse.LedgerEntry{Location: m.Location, Kind: cmp.Or(m.Kind, KindFull), SnapshotTime: m.SnapshotTime, LoadedAt: rec.StartedAt, Tool: l.cfg.Tool}
		if m.Incremental() {
			entry.Base = m.Base
		}
		for _, t := range tables {
			entry.Tables++
			entry.Rows += t.Rows + t.DeleteRows
		}
		l.log.Info("loading dump", slog.String("location", m.Location), slog.String("kind", string(rec.Kind)), slog.Int("tables", len(tables)), slog.String("schema", l.cfg.Schema))
		if m.Incremental() {
			err = l.wh.ApplyIncrement(ctx, l.cfg.Schema, tables, entry)
		} else {
			err = l.wh.LoadDump(ctx, l.cfg.Schema, tables, entry)
		}
	}
	rec.FinishedAt = time.Now()
	if err != nil {
		rec.Status, rec.Error = history.DumpFailed, err.Error()
	} else {
		rec.Status = history.DumpSucceeded
		for _, t := range tables {
			rec.Tables++
			rec.Rows += t.Rows + t.DeleteRows
		}
	}
	if l.rec != nil && rec.ID != 0 {
		if ferr := l.rec.FinishDumpLoad(context.WithoutCancel(ctx), rec); ferr != nil {
			l.log.Warn("record dump load in the history (optional; the warehouse's ledger records it)", slog.String("location", m.Location), slog.String("error", ferr.Error()))
		}
	}
	return rec.Tables, rec.Rows, err
}

func (l *Loader) record(ctx context.Context, r history.DumpLoad) {
	if l.rec == nil {
		return
	}
	if _, err := l.rec.StartDumpLoad(context.WithoutCancel(ctx), r); err != nil {
		l.log.Warn("record dump load in the history (optional)", slog.String("error", err.Error()))
	}
}

// check verifies that every file of m exists with its size, reporting
// every missing or wrong-sized file at once, and returns the tables to
// load.
func (l *Loader) check(ctx context.Context, m *Manifest) ([]warehouse.DumpTable, error) {
	var problems []string
	var tables []warehouse.DumpTable
	files := func(fs []ManifestFile, want int64, what string, t ManifestTable) ([]*warehouse.DumpFile, error) {
		var out []*warehouse.DumpFile
		var rows int64
		for _, f := range fs {
			key := m.Location + f.Path
			rows += f.Rows
			attrs, err := l.bucket.Attributes(ctx, key)
			switch {
			case gcerrors.Code(err) == gcerrors.NotFound:
				problems = append(problems, fmt.Sprintf("%s is listed in the manifest but missing", key))
				continue
			case err != nil:
				return nil, fmt.Errorf("check %s: %w", key, err)
			case attrs.Size != f.Bytes:
				problems = append(problems, fmt.Sprintf("%s has %d bytes, the manifest says %d (truncated or replaced)", key, attrs.Size, f.Bytes))
				continue
			}
			out = append(out, bucketFile(l.bucket, key, f))
		}
		if rows != want {
			problems = append(problems, fmt.Sprintf("table %s: its %sfiles hold %d rows, the manifest says %d", t.Name, what, rows, want))
		}
		return out, nil
	}
	for _, t := range m.Tables {
		if t.Name == LedgerTable {
			problems = append(problems, fmt.Sprintf("table %s: the name of the warehouse's ledger, which a dump cannot replace", t.Name))
			continue
		}
		lt := warehouse.DumpTable{Name: t.Name, Columns: t.WarehouseColumns(), Rows: t.Rows, Mode: cmp.Or(t.Mode, KindFull), Key: t.Key, DeleteRows: t.Deletes}
		var err error
		if lt.Files, err = files(t.Files, t.Rows, "", t); err != nil {
			return nil, err
		}
		if t.Mode == KindIncremental {
			if lt.Deletes, err = files(t.DeleteFiles, t.Deletes, "delete ", t); err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(t.Columns, func(c ManifestColumn) bool { return c.Name == t.Key && c.Encoding != encodingHMAC }) {
				problems = append(problems, fmt.Sprintf("table %s: key %s is not an exported column", t.Name, t.Key))
			}
		}
		tables = append(tables, lt)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("dump %s is refused, the warehouse keeps its previous tables: %s", m.Location, strings.Join(problems, "; "))
	}
	return tables, nil
}
