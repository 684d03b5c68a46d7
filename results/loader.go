package results

import (
	"cmp"
	"context"
	"crypto/md5" // not for security: the digest object storage lists, to tell a rewritten manifest
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Warehouse is what the loader needs of a warehouse: the runner's Write,
// and the ledger of the dump contract (dump.Warehouse), in a schema of
// its own. warehouse/duckdb, warehouse/postgres and warehouse/snowflake
// implement it.
type Warehouse interface {
	// Write loads rows as load says, as a direct run does.
	Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error)
	// LoadDump with no tables adds entry to schema's ledger (and drops
	// every other table of schema, which holds only the ledger).
	LoadDump(ctx context.Context, schema string, tables []warehouse.DumpTable, entry warehouse.LedgerEntry) error
	// Ledger returns schema's ledger, oldest first; none for a new
	// warehouse.
	Ledger(ctx context.Context, schema string) ([]warehouse.LedgerEntry, error)
}

// KindResult is the kind of a result's entry in the ledger.
const KindResult warehouse.DumpMode = "result"

// Loader imports the results in storage that the warehouse's ledger does
// not hold.
type Loader struct {
	cfg    Config
	bucket *blob.Bucket
	wh     Warehouse
	log    *slog.Logger
	now    func() time.Time
}

// NewLoader returns a Loader from b into wh. log may be nil.
func NewLoader(cfg Config, b *blob.Bucket, wh Warehouse, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{cfg: cfg.withDefaults(), bucket: b, wh: wh, log: log, now: time.Now}
}

// LoadResult is what a load did.
type LoadResult struct {
	// Loaded are the results loaded, in order.
	Loaded []*Manifest
	// Held counts the results in storage the ledger already held.
	Held int
	// Superseded are results not loaded because the ledger holds a
	// newer one of their table and source (for append, of the same
	// snapshot date): loading them would put older rows over newer. The
	// ledger records them with no table, so later loads count them as
	// held.
	Superseded []string
	// Incomplete are result locations without a manifest.
	Incomplete []string
	// Refused are the results that could not be loaded, with why; the
	// warehouse keeps their tables as they were.
	Refused []error
	// Rows loaded in all.
	Rows     int64
	Duration time.Duration
}

// ledgerLocation is a result's location in the ledger: its location and
// the MD5 of its manifest, so that a result written again at the same
// place (the same run writing the same query again) is a new one. MD5,
// because object storage lists it (S3's ETag of a small object, GCS's,
// fileblob's attributes): what the warehouse holds is known from the
// listing, without reading every manifest in storage.
func ledgerLocation(location string, manifestMD5 []byte) string {
	return location + ManifestName + "@" + hex.EncodeToString(manifestMD5)
}

// Load imports, oldest first (by snapshot time, then run), every complete
// result in storage that the warehouse's ledger does not hold, each
// through Write with its manifest's load and provenance, so that append
// and replace behave as in a direct run; a result loaded is then added
// to the ledger. A new warehouse, with no ledger, gets every result in
// storage. A result whose file is missing, truncated, corrupt or does
// not match its manifest is refused and the warehouse keeps the table as
// it was; the other results still load, and Load returns an error naming
// every refused file. A result without a manifest is incomplete: it is
// reported and not loaded.
//
// The ledger entry is written after the load, in a transaction of its
// own: a crash between the two loads the result again next time, which
// the loads' idempotence (append per snapshot date and source, replace)
// makes harmless.
func (l *Loader) Load(ctx context.Context) (*LoadResult, error) {
	start := l.now()
	res := &LoadResult{}
	dirs, err := l.list(ctx)
	if err != nil {
		return res, err
	}
	ledger, err := l.wh.Ledger(ctx, l.cfg.Schema)
	if err != nil {
		return res, fmt.Errorf("read the warehouse's ledger of results (%s.%s): %w", l.cfg.Schema, warehouse.LedgerTable, err)
	}
	held := map[string]bool{}
	var done []loaded
	for _, e := range ledger {
		held[e.Location] = true
		loc, _, _ := strings.Cut(e.Location, ManifestName+"@")
		if p, ok := parseLocation(l.cfg.Prefix, loc); ok {
			done = append(done, loaded{place: p, snapshot: e.SnapshotTime})
		}
	}
	type todo struct {
		m      *Manifest
		ledger string
	}
	var pending []todo
	candidates := 0
	for _, d := range dirs {
		if !d.manifest {
			res.Incomplete = append(res.Incomplete, d.location)
			l.log.Warn("result has no manifest: incomplete, not loaded", slog.String("location", d.location))
			continue
		}
		if d.md5 != nil && held[ledgerLocation(d.location, d.md5)] {
			res.Held++
			continue
		}
		m, data, err := readManifest(ctx, l.bucket, d.location)
		if err != nil {
			candidates++
			res.Refused = append(res.Refused, err)
			continue
		}
		sum := md5.Sum(data)
		loc := ledgerLocation(d.location, sum[:])
		if held[loc] {
			res.Held++
			continue
		}
		candidates++
		pending = append(pending, todo{m: m, ledger: loc})
	}
	slices.SortStableFunc(pending, func(a, b todo) int {
		return cmp.Or(a.m.Provenance.SnapshotTime.Compare(b.m.Provenance.SnapshotTime),
			cmp.Compare(a.m.Provenance.RunID, b.m.Provenance.RunID), a.m.WrittenAt.Compare(b.m.WrittenAt),
			strings.Compare(a.m.Location, b.m.Location))
	})
	for _, p := range pending {
		m := p.m
		pl, _ := parseLocation(l.cfg.Prefix, m.Location)
		if newer := supersededBy(m, pl, done); newer != "" {
			res.Superseded = append(res.Superseded, m.Location)
			l.log.Warn("result not loaded: the warehouse holds a newer one of its table and source",
				slog.String("location", m.Location), slog.String("newer", newer))
			// Recorded with no table, so that it is decided once.
			entry := warehouse.LedgerEntry{Location: p.ledger, Kind: KindResult, SnapshotTime: m.Provenance.SnapshotTime, LoadedAt: l.now(), Tool: l.cfg.Tool}
			if err := l.wh.LoadDump(ctx, l.cfg.Schema, nil, entry); err != nil {
				l.log.Warn("record a superseded result in the ledger", slog.String("location", m.Location), slog.String("error", err.Error()))
			}
			continue
		}
		n, err := l.loadOne(ctx, m, p.ledger)
		if err != nil {
			if ctx.Err() != nil {
				return res, err
			}
			res.Refused = append(res.Refused, err)
			continue
		}
		res.Loaded = append(res.Loaded, m)
		res.Rows += n
		done = append(done, loaded{place: pl, snapshot: m.Provenance.SnapshotTime})
	}
	res.Duration = l.now().Sub(start)
	if len(res.Refused) > 0 {
		return res, fmt.Errorf("%d of %d results failed (a refused result's table is kept as it was): %w",
			len(res.Refused), candidates, errors.Join(res.Refused...))
	}
	return res, nil
}

// loaded is a result the warehouse holds.
type loaded struct {
	place
	snapshot time.Time
}

// supersededBy returns the location of a result the warehouse holds that
// is newer than m for the same rows: of m's table and source, and for
// append of its snapshot date, with a later run (for replace, a later
// snapshot, or the same and a later run). "" when none.
func supersededBy(m *Manifest, p place, done []loaded) string {
	for _, d := range done {
		if d.table != p.table || d.source != p.source {
			continue
		}
		switch {
		case m.Mode == warehouse.Append && d.date == p.date && d.run > p.run,
			m.Mode == warehouse.Replace && (d.snapshot.After(m.Provenance.SnapshotTime) || d.snapshot.Equal(m.Provenance.SnapshotTime) && d.run > p.run):
			return fmt.Sprintf("%s/%d/%s/%s/", d.date, d.run, cmp.Or(d.source, noSource), d.table)
		}
	}
	return ""
}

// loadOne checks the data file against the manifest, loads it through
// Write, verifying every byte as it is read, and records it in the
// ledger.
func (l *Loader) loadOne(ctx context.Context, m *Manifest, ledgerLoc string) (int64, error) {
	key := m.Location + m.File.Path
	load, err := m.Load()
	if err != nil {
		return 0, fmt.Errorf("result %s: %w", m.Location, err)
	}
	switch attrs, err := l.bucket.Attributes(ctx, key); {
	case gcerrors.Code(err) == gcerrors.NotFound:
		return 0, fmt.Errorf("result %s refused: %s is listed in its manifest but missing", m.Location, key)
	case err != nil:
		return 0, fmt.Errorf("result %s: check %s: %w", m.Location, key, err)
	case attrs.Size != m.File.Bytes:
		return 0, fmt.Errorf("result %s refused: %s has %d bytes, the manifest says %d (truncated or replaced)", m.Location, key, attrs.Size, m.File.Bytes)
	}
	file := warehouse.NewDumpFile(key, m.File.Bytes, m.File.Rows, m.File.SHA256, func(ctx context.Context) (io.ReadCloser, error) {
		return l.bucket.NewReader(ctx, key, nil)
	})
	raw, err := file.Open(ctx) // the compressed bytes, checked against the manifest as they are read
	if err != nil {
		return 0, fmt.Errorf("result %s: %w", m.Location, err)
	}
	defer func() { _ = raw.Close() }() // read-only
	rows := newFileRows(key, raw, load.Columns, m.File.Rows)
	l.log.Info("loading result", slog.String("location", m.Location), slog.String("table", m.Table),
		slog.String("mode", string(m.Mode)), slog.Int64("rows", m.File.Rows))
	n, err := l.wh.Write(ctx, load, rows)
	if err != nil {
		var ce *warehouse.CorruptError
		if errors.As(err, &ce) {
			err = fmt.Errorf("%s is corrupt (%s)", ce.File, ce.Why)
		}
		return 0, fmt.Errorf("result %s refused, table %s is kept as it was: %w", m.Location, m.Table, err)
	}
	entry := warehouse.LedgerEntry{Location: ledgerLoc, Kind: KindResult, SnapshotTime: m.Provenance.SnapshotTime,
		Tables: 1, Rows: n, LoadedAt: l.now(), Tool: l.cfg.Tool}
	if err := l.wh.LoadDump(ctx, l.cfg.Schema, nil, entry); err != nil {
		return 0, fmt.Errorf("result %s is loaded into %s, but not recorded in the ledger (%s.%s; the next load loads it again): %w",
			m.Location, m.Table, l.cfg.Schema, warehouse.LedgerTable, err)
	}
	return n, nil
}

// resultDir is one result's directory in the bucket.
type resultDir struct {
	location string
	manifest bool
	// md5 is the manifest's MD5 when the listing gives it.
	md5 []byte
}

// list returns the result directories under the prefix, sorted, and
// whether each has its manifest. Objects outside the layout are ignored.
func (l *Loader) list(ctx context.Context) ([]resultDir, error) {
	seen := map[string]*resultDir{}
	it := l.bucket.List(&blob.ListOptions{Prefix: l.cfg.Prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", l.cfg.Prefix, err)
		}
		dir := path.Dir(o.Key) + "/"
		if _, ok := parseLocation(l.cfg.Prefix, dir); !ok {
			continue
		}
		d := seen[dir]
		if d == nil {
			d = &resultDir{location: dir}
			seen[dir] = d
		}
		if path.Base(o.Key) == ManifestName {
			d.manifest, d.md5 = true, o.MD5
		}
	}
	out := make([]resultDir, 0, len(seen))
	for _, d := range seen {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b resultDir) int { return strings.Compare(a.location, b.location) })
	return out, nil
}

// fileRows replays a result file as warehouse.Rows, checking its header
// and that it holds the manifest's row count. A file that is corrupt
// fails as corrupt (its SHA-256 or size), whatever it breaks first.
type fileRows struct {
	name   string
	raw    io.Reader // the verified compressed bytes
	gz     *gzip.Reader
	r      *csvReader
	cols   []warehouse.Column
	want   int64
	n      int64
	header bool
	fields []*string
	vals   []any
	err    error
}

func newFileRows(name string, raw io.Reader, cols []warehouse.Column, want int64) *fileRows {
	return &fileRows{name: name, raw: raw, cols: cols, want: want, vals: make([]any, len(cols))}
}

// fail ends the stream with err, or with the file's corruption when the
// rest of the file shows one: a corrupt file breaks the gzip stream or
// the CSV before its checksum is reached.
func (f *fileRows) fail(err error) bool {
	if _, derr := io.Copy(io.Discard, f.raw); derr != nil {
		var ce *warehouse.CorruptError
		if errors.As(derr, &ce) {
			f.err = derr
			return false
		}
	}
	f.err = fmt.Errorf("%s: %w", f.name, err)
	return false
}

func (f *fileRows) Next() bool {
	if f.err != nil {
		return false
	}
	if !f.header {
		f.header = true
		gz, err := gzip.NewReader(f.raw)
		if err != nil {
			return f.fail(fmt.Errorf("not gzip: %w", err))
		}
		f.gz, f.r = gz, newCSVReader(gz)
		rec, err := f.r.read()
		if err != nil {
			return f.fail(fmt.Errorf("header: %w", err))
		}
		if len(rec) != len(f.cols) {
			return f.fail(fmt.Errorf("header has %d columns, the manifest %d", len(rec), len(f.cols)))
		}
		for i, c := range f.cols {
			if rec[i] == nil || *rec[i] != c.Name {
				return f.fail(fmt.Errorf("header column %d is not %s, as the manifest says", i+1, c.Name))
			}
		}
	}
	rec, err := f.r.read()
	if errors.Is(err, io.EOF) {
		// The gzip stream ended: the file must end too, and match.
		if _, err := io.Copy(io.Discard, f.raw); err != nil {
			f.err = err
			return false
		}
		if f.n != f.want {
			return f.fail(fmt.Errorf("%d rows, the manifest says %d", f.n, f.want))
		}
		return false
	}
	if err != nil {
		return f.fail(err)
	}
	f.n++
	if f.n > f.want {
		return f.fail(fmt.Errorf("more rows than the manifest's %d", f.want))
	}
	if len(rec) != len(f.cols) {
		return f.fail(fmt.Errorf("row %d has %d fields, want %d", f.n, len(rec), len(f.cols)))
	}
	f.fields = rec
	return true
}

func (f *fileRows) Values() ([]any, error) {
	for i, s := range f.fields {
		if s == nil {
			f.vals[i] = nil
			continue
		}
		v, err := decodeValue(f.cols[i].Type, *s)
		if err != nil {
			f.err = fmt.Errorf("%s: row %d, column %s: %w", f.name, f.n, f.cols[i].Name, err)
			return nil, f.err
		}
		f.vals[i] = v
	}
	return f.vals, nil
}

func (f *fileRows) Err() error { return f.err }
