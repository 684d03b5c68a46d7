package dump

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	// The storage URL schemes: file://, s3:// and gs://.
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// ManifestFormat is the format version of a full dump's manifest; load
// refuses others.
const ManifestFormat = 1

// IncrementFormat is the format version of an increment's manifest, so
// that a loader that does not know increments refuses them instead of
// taking one for a whole dump.
const IncrementFormat = 2

// Dump kinds: of a manifest (Manifest.Kind), of each of its tables
// (ManifestTable.Mode) and of each table of dump.yml (Table.Mode). An
// increment holds tables of both kinds; a full dump only full ones.
const (
	KindFull        = warehouse.DumpFull
	KindIncremental = warehouse.DumpIncremental
)

// ManifestName is the commit marker of a dump, written last.
const ManifestName = "manifest.json"

// Manifest describes one complete dump. It is written last: a dump
// directory without one is incomplete (running, failed or killed) and is
// never loaded.
type Manifest struct {
	Format int `json:"format"`
	// Tool is "metricgate <version>".
	Tool string `json:"tool"`
	// Group is the dumped group's full path.
	Group string `json:"group"`
	// Location is the dump's prefix in the bucket ("dumps/2026-12-01/17/").
	Location string `json:"location"`
	// SnapshotTime is the source's as-of time in the exported snapshot.
	SnapshotTime time.Time `json:"snapshot_time"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at"`
	// ConfigSHA256 is the hex SHA-256 of dump.yml.
	ConfigSHA256 string `json:"config_sha256"`
	// Pseudonym describes the pseudonymization of pseudonymized columns.
	Pseudonym string `json:"pseudonym,omitempty"`
	// Kind is KindFull (also when empty) or KindIncremental.
	Kind warehouse.DumpMode `json:"kind,omitempty"`
	// Base is the location of the dump an increment applies on: the
	// warehouse must hold exactly that dump.
	Base string `json:"base,omitempty"`
	// FullSnapshotTime is the snapshot time of the full dump the chain of
	// increments starts at (a full dump's own).
	FullSnapshotTime time.Time `json:"full_snapshot_time,omitzero"`
	// ScopeSHA256 is a digest of the scope's groups and projects with
	// their feature levels: while it stays the same, an increment finds
	// the rows that entered or left the scope among the rows that changed
	// (see the package documentation, # Increments).
	ScopeSHA256 string `json:"scope_sha256,omitempty"`
	// Snapshots are the snapshot times per source role when the dump read
	// more than one database (each read on a snapshot of its own).
	Snapshots map[string]time.Time `json:"snapshots,omitempty"`
	// Tables in dump.yml order.
	Tables []ManifestTable `json:"tables"`
}

// Incremental reports whether m is an increment.
func (m *Manifest) Incremental() bool { return m.Kind == KindIncremental }

// Window is the range of an incremental table's updated_at an increment
// exported: From is the previous watermark less the overlap, To the
// snapshot time.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ManifestTable is one exported table.
type ManifestTable struct {
	Name string `json:"name"`
	// Rows are the rows of Files: the whole table, or an increment's
	// upserts.
	Rows    int64            `json:"rows"`
	Columns []ManifestColumn `json:"columns"`
	Files   []ManifestFile   `json:"files"`
	// Mode is how the table is in this dump: KindFull (the whole table;
	// also when empty) or KindIncremental (Files are upserts, DeleteFiles
	// the keys of rows to delete). Only increments have incremental
	// tables.
	Mode warehouse.DumpMode `json:"mode,omitempty"`
	// Key is the primary-key column of an incremental table.
	Key string `json:"key,omitempty"`
	// Window is what an incremental table's upserts were selected by.
	Window *Window `json:"window,omitempty"`
	// Deletes counts the keys in DeleteFiles.
	Deletes     int64          `json:"deletes,omitempty"`
	DeleteFiles []ManifestFile `json:"delete_files,omitempty"`
	// Keys is the file of every key in the scope at the snapshot, which
	// the next increment compares its own with (tables of mode
	// incremental in dump.yml, in full dumps and increments alike).
	Keys *ManifestFile `json:"keys,omitempty"`
	// KeyBuckets is a file earlier versions wrote: a summary of every key
	// of the table, in the scope or not, by bucket of 1024 keys. It
	// counted rows out of the scope, so no dump writes it any more; it
	// is read only so that retention and the loader's checks still cover
	// it in old dumps.
	KeyBuckets *ManifestFile `json:"key_buckets,omitempty"`
}

// ManifestColumn is one column of an exported table, with its type in the
// source.
type ManifestColumn struct {
	Name string `json:"name"`
	// Type is pg_type.typname (int4, timestamptz, _int4, numeric, …).
	Type string `json:"type"`
	// SQLType is information_schema's data_type ("timestamp with time zone").
	SQLType string `json:"sql_type"`
	// Precision and Scale of a numeric(p,s).
	Precision int `json:"precision,omitempty"`
	Scale     int `json:"scale,omitempty"`
	// Encoding is how the CSV carries the value when not as PostgreSQL's
	// text output: "json" for arrays, "hmac-sha256" for pseudonymized
	// columns (hex text, whatever the source type).
	Encoding string `json:"encoding,omitempty"`
}

// ManifestFile is one file of a table: gzip-compressed CSV with a header
// row.
type ManifestFile struct {
	// Path is relative to the dump's location: "notes.csv.gz",
	// "notes.part2.csv.gz".
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Bytes is the compressed size.
	Bytes int64 `json:"bytes"`
	// Rows excludes the header.
	Rows int64 `json:"rows"`
}

// WarehouseColumns returns the table's columns as the warehouse types
// them: pseudonymized columns are text, arrays keep their element type.
func (t ManifestTable) WarehouseColumns() []warehouse.Column {
	out := make([]warehouse.Column, len(t.Columns))
	for i, c := range t.Columns {
		typmod := int32(-1)
		if c.Type == "numeric" && c.Precision > 0 {
			typmod = int32(c.Precision<<16|c.Scale) + 4
		}
		typ := warehouse.FromPostgres(c.Type, typmod)
		source := c.Type
		if c.Encoding == encodingHMAC {
			typ, source = warehouse.Type{Kind: warehouse.KindText}, "text"
		}
		out[i] = warehouse.Column{Name: c.Name, Type: typ, Source: source}
	}
	return out
}

const (
	encodingJSON = "json"
	encodingHMAC = "hmac-sha256"
)

// OpenBucket opens the object storage a dump.storage_url names:
// file:///dir (the default kind), s3://bucket?region=…, gs://bucket. A
// prefix in the URL (?prefix=) is gocloud's. The error never repeats the
// URL's query, which may hold credentials.
func OpenBucket(ctx context.Context, url string) (*blob.Bucket, error) {
	if url == "" {
		return nil, errors.New("open dump storage: dump.storage_url is not set")
	}
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		scheme, _, _ := strings.Cut(url, "://")
		return nil, fmt.Errorf("open dump storage (%s://…): %w", scheme, errors.New(redactURLs(err.Error(), url)))
	}
	return b, nil
}

func redactURLs(msg, url string) string {
	if url == "" {
		return msg
	}
	return strings.ReplaceAll(msg, url, "…")
}

// dumpDir is one dump's directory: prefix/<date>/<run>/.
type dumpDir struct {
	date, run string
	location  string
	complete  bool
}

// less orders dumps oldest first: by date, then run (numerically when
// both are numbers).
func (a dumpDir) compare(b dumpDir) int {
	if c := strings.Compare(a.date, b.date); c != 0 {
		return c
	}
	an, aerr := strconv.ParseInt(a.run, 10, 64)
	bn, berr := strconv.ParseInt(b.run, 10, 64)
	if aerr == nil && berr == nil {
		return cmp.Compare(an, bn)
	}
	return strings.Compare(a.run, b.run)
}

// listDumps returns the dump directories under prefix, oldest first, and
// whether each has its manifest.
func listDumps(ctx context.Context, b *blob.Bucket, prefix string) ([]dumpDir, error) {
	var out []dumpDir
	dates := b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		d, err := dates.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if !d.IsDir {
			continue
		}
		runs := b.List(&blob.ListOptions{Prefix: d.Key, Delimiter: "/"})
		for {
			r, err := runs.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", d.Key, err)
			}
			if !r.IsDir {
				continue
			}
			dd := dumpDir{
				date:     strings.TrimSuffix(strings.TrimPrefix(d.Key, prefix), "/"),
				run:      strings.TrimSuffix(strings.TrimPrefix(r.Key, d.Key), "/"),
				location: r.Key,
			}
			ok, err := b.Exists(ctx, r.Key+ManifestName)
			if err != nil {
				return nil, fmt.Errorf("look for %s%s: %w", r.Key, ManifestName, err)
			}
			dd.complete = ok
			out = append(out, dd)
		}
	}
	slices.SortFunc(out, dumpDir.compare)
	return out, nil
}

// readManifest reads and checks the manifest of the dump at location.
func readManifest(ctx context.Context, b *blob.Bucket, location string) (*Manifest, error) {
	data, err := b.ReadAll(ctx, location+ManifestName)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("dump %s has no %s: it is incomplete (still running, failed or killed) and is not loaded", location, ManifestName)
		}
		return nil, fmt.Errorf("read %s%s: %w", location, ManifestName, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read %s%s: not a manifest: %w", location, ManifestName, err)
	}
	switch {
	case m.Format == ManifestFormat && !m.Incremental(), m.Format == IncrementFormat && m.Incremental():
	default:
		return nil, fmt.Errorf("read %s%s: manifest format %d of a %s dump, this metricgate reads format %d (full) and %d (incremental)",
			location, ManifestName, m.Format, cmp.Or(m.Kind, KindFull), ManifestFormat, IncrementFormat)
	}
	if m.Incremental() && m.Base == "" {
		return nil, fmt.Errorf("read %s%s: an increment without a base", location, ManifestName)
	}
	if m.Location != location {
		return nil, fmt.Errorf("read %s%s: the manifest says it belongs to %s: a copied or moved dump is not loaded", location, ManifestName, m.Location)
	}
	for _, t := range m.Tables {
		if !identRE.MatchString(t.Name) || len(t.Columns) == 0 || len(t.Files) == 0 {
			return nil, fmt.Errorf("read %s%s: table %q: bad name, no columns or no files", location, ManifestName, t.Name)
		}
		files := slices.Concat(t.Files, t.DeleteFiles)
		if t.Keys != nil {
			files = append(files, *t.Keys)
		}
		if t.KeyBuckets != nil {
			files = append(files, *t.KeyBuckets)
		}
		for _, f := range files {
			if strings.Contains(f.Path, "/") || !strings.HasSuffix(f.Path, ".csv.gz") || len(f.SHA256) != 64 {
				return nil, fmt.Errorf("read %s%s: table %s: bad file entry %q", location, ManifestName, t.Name, f.Path)
			}
		}
		if t.Mode == KindIncremental && (!m.Incremental() || !identRE.MatchString(t.Key)) {
			return nil, fmt.Errorf("read %s%s: table %s: incremental without a key, or in a full dump", location, ManifestName, t.Name)
		}
	}
	return &m, nil
}
