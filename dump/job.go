package dump

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/snapshot"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// tableJob is one table's export.
type tableJob struct {
	table    *Table
	sql      string
	columns  []ManifestColumn
	sink     *sink
	running  atomic.Bool // exporting now: named in Progress.Running
	estimate int64
	location string
	src      *source
	def      *Definition
	remote   *remoteScope
	arrays   map[string]bool
	level    int

	// keys: write the keys of the scope (an incremental table).
	keys     bool
	keysFile *ManifestFile
	keysTime time.Duration
	phases   []any
	// prevKeys, in an increment, are the base's keys: the table is
	// exported as changes since from.
	prevKeys *warehouse.DumpFile
	baseKeys *keyCache
	from, to time.Time
	// fast: find the changes among the candidates (candidatesSQL) instead
	// of comparing every key of the scope; changed are the objects that
	// entered or left the scope, by kind (changedEntities).
	fast        bool
	changed     map[string][]int64
	deletes     int64
	deleteFiles []ManifestFile
}

func (j *tableJob) mode() warehouse.DumpMode {
	if j.prevKeys != nil {
		return KindIncremental
	}
	return KindFull
}

func (e *Exporter) newJob(def *Definition, t *Table, cols map[string]SourceColumn, location string, remote *remoteScope) *tableJob {
	j := &tableJob{table: t, location: location, def: def, remote: remote, level: e.cfg.Level}
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
	j.arrays = arrays
	j.sql = def.selectSQL(t, arrays, remote, "")
	j.sink = newSink(context.Background(), e.bucket, location, t.Name, e.cfg.SplitSize, e.cfg.Level, pseudo, e.cfg.PseudonymKey)
	return j
}

// run copies the table out in a transaction attached to its source's
// snapshot: for an incremental table its keys first, and in an increment
// only the rows changed or entered since the base, and the keys that
// left.
func (j *tableJob) run(ctx context.Context, conn *pgx.Conn, cfg Config) (err error) {
	j.sink.ctx = ctx
	tx, err := snapshot.Attach(ctx, conn, j.src.snapshot, nil)
	var attach *snapshot.AttachError
	switch {
	case errors.As(err, &attach):
		return fmt.Errorf("attach to the dump's snapshot: %w", attach.Err)
	case err != nil:
		return err // "begin: …"
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // read-only
	// The text forms every loader reads: ISO dates, UTC offsets, shortest
	// exact floats.
	if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
		set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true),
		set_config('bytea_output', 'hex', true), set_config('statement_timeout', $1, true)`,
		strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)); err != nil {
		return fmt.Errorf("set output formats: %w", err)
	}
	query := j.sql
	if j.prevKeys != nil && j.fast {
		upserts, err := j.candidates(ctx, conn, cfg)
		if err != nil {
			return err
		}
		query = j.def.upsertsSQL(j.table, j.arrays, upserts)
	} else if j.keys {
		keys, err := j.exportKeys(ctx, conn, cfg)
		if err != nil {
			return err
		}
		if j.prevKeys != nil {
			prev, err := readKeys(ctx, j.prevKeys)
			if err != nil {
				return err
			}
			entered, left := diffKeys(prev, keys)
			if err := j.writeDeletes(ctx, cfg, left); err != nil {
				return err
			}
			query = j.def.selectSQL(j.table, j.arrays, j.remote, changedSQL(j.table, j.from, entered))
		}
	}
	if _, err := conn.PgConn().CopyTo(ctx, j.sink, "COPY ("+query+") TO STDOUT (FORMAT csv, HEADER)"); err != nil {
		return j.sink.abort(fmt.Errorf("copy: %w", err))
	}
	return j.sink.finish()
}

// exportKeys reads the key of every row in the scope, sorted, and writes
// them to <table>.keys.csv.gz.
func (j *tableJob) exportKeys(ctx context.Context, conn *pgx.Conn, cfg Config) ([]int64, error) {
	var ks keySink
	start := time.Now()
	defer func() { j.keysTime = time.Since(start) }()
	if _, err := conn.PgConn().CopyTo(ctx, &ks, "COPY ("+j.def.keysSQL(j.table, j.remote)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy keys: %w", err)
	}
	if len(ks.pending) > 0 {
		return nil, errors.New("copy keys: the stream ended inside a row")
	}
	slices.Sort(ks.keys)
	files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".keys", j.table.Key, ks.keys, keysLevel)
	if err != nil {
		return nil, err
	}
	j.keysFile = &files[0]
	return ks.keys, nil
}

func (j *tableJob) writeDeletes(ctx context.Context, cfg Config, left []int64) error {
	files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".deletes", j.table.Key, left, cfg.Level)
	if err != nil {
		return err
	}
	j.deletes, j.deleteFiles = int64(len(left)), files
	return nil
}

// newJobs prepares the export of every table of def into location: in
// an increment, an incremental table's changes since base, found among
// the rows that changed (changedEntities) while the scope's groups and
// projects are the same as at base.
func (e *Exporter) newJobs(ctx context.Context, def *Definition, snap *snapshots, base *Manifest, location string, log *slog.Logger) ([]*tableJob, error) {
	jobs := make([]*tableJob, len(def.Tables))
	for i, t := range def.Tables {
		role := e.roleOf(t)
		var r *remoteScope
		if role != MainRole {
			r = snap.remote
		}
		jobs[i] = e.newJob(def, t, snap.types[t.Name], location, r)
		jobs[i].estimate = snap.estimates[t.Name]
		jobs[i].src = snap.sources[role]
		if t.Mode == KindIncremental {
			jobs[i].keys = true
			if base != nil {
				bt := base.Tables[slices.IndexFunc(base.Tables, func(bt ManifestTable) bool { return bt.Name == t.Name })]
				jobs[i].prevKeys = bucketFile(e.bucket, base.Location+bt.Keys.Path, *bt.Keys)
				jobs[i].from = base.snapshotOf(t).Add(-e.cfg.Overlap)
				jobs[i].to = snap.sources[role].asOf.UTC()
				// The same groups and projects in the scope as at the base:
				// only rows that changed can have entered or left it.
				jobs[i].fast = role == MainRole && len(snap.roles) == 1 && snap.scopeSum != "" && base.ScopeSHA256 == snap.scopeSum
			}
		}
	}
	cache := &keyCache{keys: map[string][]int64{}}
	for _, j := range jobs {
		j.baseKeys = cache
	}
	if slices.ContainsFunc(jobs, func(j *tableJob) bool { return j.fast }) {
		start := time.Now()
		changed, err := e.changedEntities(ctx, snap.mainTx, def, base, jobs, cache)
		if err != nil {
			return nil, err
		}
		log.Info("changed objects found", slog.Int("issues", len(changed["issue"])), slog.Int("merge_requests", len(changed["merge_request"])),
			slog.Int("notes", len(changed["note"])), slog.Int("pipelines", len(changed["pipeline"])), slog.Duration("duration", time.Since(start)))
		for _, j := range jobs {
			j.changed = changed
		}
	}
	return jobs, nil
}

// runJobs runs the jobs on Workers workers, the biggest tables first,
// each worker on a connection of its own per source; the first error
// cancels the others.
func (e *Exporter) runJobs(ctx context.Context, jobs []*tableJob, log *slog.Logger) error {
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
			conns := map[string]*pgx.Conn{}
			defer func() {
				for _, c := range conns {
					snapshot.CloseConn(ctx, c)
				}
			}()
			for j := range next {
				if ctx.Err() != nil {
					return
				}
				conn := conns[j.src.role]
				if conn == nil {
					var err error
					conn, err = snapshot.Connect(ctx, j.src.url, fmt.Sprintf("%s worker %d", e.cfg.ApplicationName, w+1), nil)
					if err != nil {
						cancel(err)
						return
					}
					conns[j.src.role] = conn
				}
				start := time.Now()
				j.running.Store(true)
				err := j.run(ctx, conn, e.cfg)
				j.running.Store(false)
				if err != nil {
					cancel(fmt.Errorf("export table %s: %w", j.table.Name, err))
					return
				}
				done.Add(1)
				log.Info("table exported", slog.String("table", j.table.Name), slog.String("mode", string(j.mode())), slog.Int64("rows", j.sink.rows),
					slog.Int64("deletes", j.deletes), slog.Int("files", len(j.sink.files)), slog.Duration("keys_duration", j.keysTime), slog.Duration("duration", time.Since(start)), slog.Group("keys_phases", j.phases...))
			}
		})
	}
	wg.Wait()
	stop()
	return context.Cause(ctx)
}
