package dump

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/history"
)

// Config configures an Exporter. Zero values mean the documented defaults.
type Config struct {
	// SourceURL is the connection string of a read-only role on the
	// source. Required.
	SourceURL string
	// AsOf is an SQL expression giving the time the source's data is as
	// of, the dump's snapshot time. Default "now()".
	AsOf string
	// Prefix is where dumps go in the bucket. Default "dumps/".
	Prefix string
	// Keep is how many complete dumps retention keeps. Default 7.
	Keep int
	// Workers is how many tables are exported at once, each on its own
	// connection attached to the snapshot. Default 2.
	Workers int
	// SplitSize starts a new file of a table once the current one has this
	// many compressed bytes. Default 256 MiB.
	SplitSize int64
	// Level is the gzip level (1 fastest … 9 smallest). Default 6.
	Level int
	// PseudonymKey keys the HMAC of pseudonymized columns; required when a
	// table pseudonymizes one, at least 16 bytes.
	PseudonymKey []byte
	// ApplicationName prefixes application_name on the source. Default
	// "metricgate dump".
	ApplicationName string
	// Tool is the manifest's tool ("metricgate <version>"). Default
	// "metricgate".
	Tool string
	// StatementTimeout bounds each table's COPY. Default 6h.
	StatementTimeout time.Duration
}

func (c Config) withDefaults() Config {
	c.AsOf = cmp.Or(c.AsOf, "now()")
	c.Prefix = cmp.Or(c.Prefix, "dumps/")
	c.Keep = cmp.Or(c.Keep, 7)
	c.Workers = cmp.Or(c.Workers, 2)
	c.SplitSize = cmp.Or(c.SplitSize, 256<<20)
	c.Level = cmp.Or(c.Level, 6)
	c.ApplicationName = cmp.Or(c.ApplicationName, "metricgate dump")
	c.Tool = cmp.Or(c.Tool, "metricgate")
	c.StatementTimeout = cmp.Or(c.StatementTimeout, 6*time.Hour)
	return c
}

func (c Config) validate() error {
	switch {
	case c.SourceURL == "":
		return errors.New("dump: SourceURL: the source database is not set")
	case c.Keep < 1:
		return fmt.Errorf("dump: Keep %d: must be at least 1", c.Keep)
	case c.Workers < 1 || c.Workers > 32:
		return fmt.Errorf("dump: Workers %d: must be between 1 and 32", c.Workers)
	case c.SplitSize < 1<<10:
		return fmt.Errorf("dump: SplitSize %d: must be at least 1 KiB", c.SplitSize)
	case c.Level < 1 || c.Level > 9:
		return fmt.Errorf("dump: Level %d: must be between 1 and 9", c.Level)
	case len(c.Prefix) > 0 && c.Prefix[len(c.Prefix)-1] != '/':
		return fmt.Errorf("dump: Prefix %q: must end with /", c.Prefix)
	}
	return nil
}

// Recorder records dumps in the history database (*history.Store).
type Recorder interface {
	StartDump(ctx context.Context, d history.Dump) (int64, error)
	FinishDump(ctx context.Context, d history.Dump) error
}

// Progress is a dump's progress so far.
type Progress struct {
	Tables, TablesDone int
	Rows, Bytes        int64
	Elapsed            time.Duration
}

// Exporter writes dumps. Make one with New.
type Exporter struct {
	cfg      Config
	bucket   *blob.Bucket
	rec      Recorder
	log      *slog.Logger
	progress func(Progress)
	now      func() time.Time
}

// Deps are the Exporter's collaborators.
type Deps struct {
	// Bucket is the object storage (OpenBucket). Required.
	Bucket *blob.Bucket
	// Recorder records each dump; nil records nothing.
	Recorder Recorder
	// Logger; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called about twice a second during a dump and
	// once at its end.
	Progress func(Progress)
}

// New returns an Exporter.
func New(cfg Config, deps Deps) (*Exporter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Bucket == nil {
		return nil, errors.New("dump: no bucket")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exporter{cfg: cfg, bucket: deps.Bucket, rec: deps.Recorder, log: log, progress: deps.Progress, now: time.Now}, nil
}

// needsKey names the tables that pseudonymize a column.
func needsKey(def *Definition) []string {
	var out []string
	for _, t := range def.Tables {
		if len(t.Pseudonymize) > 0 {
			out = append(out, t.Name)
		}
	}
	return out
}

// Dump exports every table of def from one snapshot of the source, writes
// the manifest last, records the dump and applies retention. On failure
// no manifest is written: the files written so far are an incomplete dump
// that load ignores and retention removes.
func (e *Exporter) Dump(ctx context.Context, def *Definition) (*Manifest, error) {
	if tables := needsKey(def); len(tables) > 0 && len(e.cfg.PseudonymKey) < 16 {
		what := "not set"
		if len(e.cfg.PseudonymKey) > 0 {
			what = "shorter than 16 bytes"
		}
		return nil, fmt.Errorf("dump: the pseudonym key is %s, and tables %v pseudonymize columns: set dump.pseudonym_key (METRICGATE_DUMP_PSEUDONYM_KEY)", what, tables)
	}
	rec := history.Dump{Group: def.Group, Status: history.DumpRunning, ConfigSHA256: def.SHA256, StartedAt: e.now()}
	runID := strconv.FormatInt(rec.StartedAt.UnixNano(), 10) // without a history: unique enough, ordered
	if e.rec != nil {
		id, err := e.rec.StartDump(ctx, rec)
		if err != nil {
			return nil, err
		}
		rec.ID, runID = id, strconv.FormatInt(id, 10)
	}
	m, err := e.dump(ctx, def, runID, &rec)
	rec.FinishedAt = e.now()
	if err != nil {
		rec.Status, rec.Error = history.DumpFailed, err.Error()
	} else {
		rec.Status = history.DumpSucceeded
	}
	if e.rec != nil {
		ferr := e.rec.FinishDump(context.WithoutCancel(ctx), rec)
		if err == nil && ferr != nil {
			err = ferr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := Retain(ctx, e.bucket, e.cfg.Prefix, e.cfg.Keep, e.log); err != nil {
		e.log.Warn("retention failed", slog.String("error", err.Error()))
		return m, err
	}
	return m, nil
}

func (e *Exporter) dump(ctx context.Context, def *Definition, runID string, rec *history.Dump) (*Manifest, error) {
	coord, err := connect(ctx, e.cfg.SourceURL, e.cfg.ApplicationName+" coordinator")
	if err != nil {
		return nil, err
	}
	defer closeConn(ctx, coord)
	tx, err := coord.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin snapshot transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // read-only: nothing to keep
	// The coordinator sits idle while the workers copy, and must outlive
	// them: they attach to its snapshot table by table.
	if _, err := tx.Exec(ctx, "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
		strconv.FormatInt((e.cfg.StatementTimeout+10*time.Minute).Milliseconds(), 10)); err != nil {
		return nil, fmt.Errorf("set idle timeout: %w", err)
	}
	var asOf *time.Time
	if err := tx.QueryRow(ctx, "SELECT ("+e.cfg.AsOf+")::timestamptz").Scan(&asOf); err != nil {
		return nil, fmt.Errorf("read as_of (%s): %w", e.cfg.AsOf, err)
	}
	if asOf == nil {
		return nil, fmt.Errorf("as_of (%s) is NULL: the source looks empty", e.cfg.AsOf)
	}
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	types, err := CheckSource(ctx, tx, def)
	if err != nil {
		return nil, err
	}
	var scopeRoot int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(def.Schema)+`.routes WHERE source_type = 'Namespace' AND lower(path) = lower($1)`, def.Group).Scan(&scopeRoot); err != nil {
		return nil, fmt.Errorf("look up group %s: %w", def.Group, err)
	}
	if scopeRoot == 0 {
		return nil, fmt.Errorf("group %s: no such group in the source", def.Group)
	}
	estimates, err := estimateRows(ctx, tx, def)
	if err != nil {
		return nil, err
	}
	snap := asOf.UTC()
	location := e.cfg.Prefix + snap.Format(time.DateOnly) + "/" + runID + "/"
	rec.Location, rec.SnapshotTime = location, snap
	taken, err := e.bucket.Exists(ctx, location+ManifestName)
	if err != nil {
		return nil, fmt.Errorf("check dump location %s: %w", location, err)
	}
	if taken {
		return nil, fmt.Errorf("dump location %s already holds a complete dump (a reset history database?): not overwritten", location)
	}
	m := &Manifest{Format: ManifestFormat, Tool: e.cfg.Tool, Group: def.Group, Location: location, SnapshotTime: snap,
		StartedAt: rec.StartedAt.UTC(), ConfigSHA256: def.SHA256}
	if len(needsKey(def)) > 0 {
		m.Pseudonym = PseudonymScheme
	}
	log := e.log.With(slog.String("location", location), slog.Int64("dump_id", rec.ID))
	log.Info("dump started", slog.String("group", def.Group), slog.Time("snapshot_time", snap), slog.Int("tables", len(def.Tables)))

	jobs := make([]*tableJob, len(def.Tables))
	for i, t := range def.Tables {
		jobs[i] = e.newJob(def, t, types[t.Name], location)
		jobs[i].estimate = estimates[t.Name]
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *tableJob, len(jobs))
	for _, j := range slices.SortedFunc(slices.Values(jobs), func(a, b *tableJob) int { return cmp.Compare(b.estimate, a.estimate) }) {
		next <- j
	}
	close(next)
	var done atomic.Int64
	stop := e.reportProgress(jobs, &done)
	var wg sync.WaitGroup
	for w := range min(e.cfg.Workers, len(jobs)) {
		wg.Go(func() {
			conn, err := connect(ctx, e.cfg.SourceURL, fmt.Sprintf("%s worker %d", e.cfg.ApplicationName, w+1))
			if err != nil {
				cancel(err)
				return
			}
			defer closeConn(ctx, conn)
			for j := range next {
				if ctx.Err() != nil {
					return
				}
				start := time.Now()
				if err := j.run(ctx, conn, snapshot, e.cfg); err != nil {
					cancel(fmt.Errorf("export table %s: %w", j.table.Name, err))
					return
				}
				done.Add(1)
				log.Info("table exported", slog.String("table", j.table.Name), slog.Int64("rows", j.sink.rows),
					slog.Int("files", len(j.sink.files)), slog.Duration("duration", time.Since(start)))
			}
		})
	}
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		mt := ManifestTable{Name: j.table.Name, Rows: j.sink.rows, Columns: j.columns, Files: j.sink.files}
		m.Tables = append(m.Tables, mt)
		rec.Tables++
		rec.Files += len(mt.Files)
		rec.Rows += mt.Rows
		for _, f := range mt.Files {
			rec.Bytes += f.Bytes
		}
	}
	m.FinishedAt = e.now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	// The commit marker: everything above is in place.
	if err := e.bucket.WriteAll(ctx, location+ManifestName, append(data, '\n'), &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return nil, fmt.Errorf("write %s%s: %w", location, ManifestName, err)
	}
	log.Info("dump written", slog.Int("tables", rec.Tables), slog.Int("files", rec.Files), slog.Int64("rows", rec.Rows), slog.Int64("bytes", rec.Bytes))
	return m, nil
}

// tableJob is one table's export.
type tableJob struct {
	table    *Table
	sql      string
	columns  []ManifestColumn
	sink     *sink
	estimate int64
	location string
}

func (e *Exporter) newJob(def *Definition, t *Table, cols map[string]SourceColumn, location string) *tableJob {
	j := &tableJob{table: t, location: location}
	arrays := map[string]bool{}
	pseudo := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		sc := cols[c]
		mc := ManifestColumn{Name: c, Type: sc.UDT, SQLType: sc.SQL, Precision: sc.Precision, Scale: sc.Scale}
		if len(sc.UDT) > 1 && sc.UDT[0] == '_' {
			arrays[c] = true
			mc.Encoding = encodingJSON
		}
		if t.Pseudonymized(c) {
			pseudo[i] = true
			mc.Encoding = encodingHMAC
		}
		j.columns = append(j.columns, mc)
	}
	j.sql = def.SelectSQL(t, arrays)
	j.sink = newSink(context.Background(), e.bucket, location, t.Name, e.cfg.SplitSize, e.cfg.Level, pseudo, e.cfg.PseudonymKey)
	return j
}

// run copies the table out in a transaction attached to the snapshot.
func (j *tableJob) run(ctx context.Context, conn *pgx.Conn, snapshot string, cfg Config) (err error) {
	j.sink.ctx = ctx
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // read-only
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(snapshot)); err != nil {
		return fmt.Errorf("attach to the dump's snapshot: %w", err)
	}
	// The text forms every loader reads: ISO dates, UTC offsets, shortest
	// exact floats.
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
		set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true),
		set_config('bytea_output', 'hex', true), set_config('statement_timeout', $1, true)`,
		strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("set output formats: %w", err)
	}
	if _, err := conn.PgConn().CopyTo(ctx, j.sink, "COPY ("+j.sql+") TO STDOUT (FORMAT csv, HEADER)"); err != nil {
		return j.sink.abort(fmt.Errorf("copy: %w", err))
	}
	return j.sink.finish()
}

// reportProgress calls the progress callback twice a second until stop.
func (e *Exporter) reportProgress(jobs []*tableJob, done *atomic.Int64) (stop func()) {
	if e.progress == nil {
		return func() {}
	}
	start := time.Now()
	snapshot := func() Progress {
		p := Progress{Tables: len(jobs), TablesDone: int(done.Load()), Elapsed: time.Since(start)}
		for _, j := range jobs {
			p.Rows += j.sink.rowsSeen.Load()
			p.Bytes += j.sink.bytesOut.Load()
		}
		return p
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				e.progress(snapshot())
				return
			case <-t.C:
				e.progress(snapshot())
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// connect opens a source connection whose application_name shows in
// pg_stat_activity. Errors never quote the connection string.
func connect(ctx context.Context, url, appName string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("parse the source URL: malformed connection string")
	}
	cfg.RuntimeParams["application_name"] = appName
	ctx, cancel := context.WithTimeoutCause(ctx, 30*time.Second, errors.New("connect to the source: timed out after 30s"))
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the source: %w", err)
	}
	return conn, nil
}

func closeConn(ctx context.Context, c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing to keep on a read-only connection
}

// estimateRows returns the planner's row estimate of each table, so that
// the biggest tables start first and the workers finish together.
func estimateRows(ctx context.Context, tx pgx.Tx, def *Definition) (map[string]int64, error) {
	names := make([]string, len(def.Tables))
	for i, t := range def.Tables {
		names[i] = t.Name
	}
	rows, err := tx.Query(ctx, `SELECT c.relname::text, greatest(c.reltuples, 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY ($2)`, def.Schema, names)
	if err != nil {
		return nil, fmt.Errorf("estimate table sizes: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("estimate table sizes: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}
