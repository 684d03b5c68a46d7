package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// ManifestFormat is the format version of a result's manifest; the loader
// refuses others.
const ManifestFormat = 1

// ManifestName is a result's commit marker, written last: a result
// directory without one is incomplete (being written, failed or killed)
// and is never loaded.
const ManifestName = "manifest.json"

// DataName is the file holding a result's rows: gzip-compressed CSV with
// a header row.
const DataName = "result.csv.gz"

// DefaultPrefix is where results are in the bucket.
const DefaultPrefix = "results/"

// noSource is the directory of a load of no particular source
// (Provenance.Source ""), which no source name can be.
const noSource = "_"

// Manifest describes one result: one query's rows from one source for
// one snapshot, in one run.
type Manifest struct {
	Format int `json:"format"`
	// Tool is "metricgate <version>", the binary that wrote it.
	Tool string `json:"tool"`
	// Location is the result's prefix in the bucket
	// (results/<snapshot date>/<run id>/<source>/<table>/).
	Location string `json:"location"`
	// Table is the warehouse table, Mode append or replace.
	Table string         `json:"table"`
	Mode  warehouse.Mode `json:"mode"`
	// Columns are the query's columns in file order, without the
	// provenance columns.
	Columns []ManifestColumn `json:"columns"`
	// Provenance is what every row of the table records.
	Provenance ManifestProvenance `json:"provenance"`
	// File is the data file.
	File ManifestFile `json:"file"`
	// WrittenAt is when the manifest was written.
	WrittenAt time.Time `json:"written_at"`
}

// ManifestColumn is one column with its type.
type ManifestColumn struct {
	Name string `json:"name"`
	// Type is the warehouse type ("int", "numeric(12,2)", "text[]").
	Type string `json:"type"`
	// Source is the PostgreSQL type the source gave (pg_type.typname).
	Source string `json:"source,omitempty"`
}

// ManifestProvenance is warehouse.Provenance as the manifest records it.
type ManifestProvenance struct {
	// SnapshotTime is the source's as-of time; its date (UTC) is the
	// _snapshot_date of the rows.
	SnapshotTime time.Time `json:"snapshot_time"`
	SnapshotDate string    `json:"snapshot_date"`
	RunID        int64     `json:"run_id"`
	QuerySHA256  string    `json:"query_sha256"`
	Commit       string    `json:"commit,omitempty"`
	MRIID        int64     `json:"mr_iid,omitempty"`
	Source       string    `json:"source,omitempty"`
	// LoadedAt is the rows' _loaded_at: when the run wrote the result,
	// as a direct load stamps when it starts.
	LoadedAt time.Time `json:"loaded_at"`
}

// ManifestFile is the data file.
type ManifestFile struct {
	// Path is relative to the location.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Bytes is the compressed size.
	Bytes int64 `json:"bytes"`
	// Rows excludes the header.
	Rows int64 `json:"rows"`
}

// Load returns the load the manifest describes.
func (m *Manifest) Load() (warehouse.Load, error) {
	l := warehouse.Load{Table: m.Table, Mode: m.Mode, Provenance: warehouse.Provenance{
		SnapshotDate: m.Provenance.SnapshotTime, RunID: m.Provenance.RunID, QuerySHA256: m.Provenance.QuerySHA256,
		Commit: m.Provenance.Commit, LoadedAt: m.Provenance.LoadedAt, MRIID: m.Provenance.MRIID, Source: m.Provenance.Source,
	}}
	for _, c := range m.Columns {
		t, err := parseType(c.Type)
		if err != nil {
			return l, fmt.Errorf("column %s: %w", c.Name, err)
		}
		l.Columns = append(l.Columns, warehouse.Column{Name: c.Name, Type: t, Source: c.Source})
	}
	return l, l.Validate()
}

// parseType reads what warehouse.Type.String writes.
func parseType(s string) (warehouse.Type, error) {
	var t warehouse.Type
	name, array := strings.CutSuffix(s, "[]")
	t.Array = array
	if inner, ok := strings.CutPrefix(name, "numeric("); ok {
		p, sc, ok2 := strings.Cut(strings.TrimSuffix(inner, ")"), ",")
		var err1, err2 error
		t.Precision, err1 = strconv.Atoi(p)
		t.Scale, err2 = strconv.Atoi(sc)
		if !ok2 || !strings.HasSuffix(inner, ")") || err1 != nil || err2 != nil {
			return t, fmt.Errorf("unknown type %q", s)
		}
		name = "numeric"
	}
	for k := warehouse.KindText; k <= warehouse.KindJSON; k++ {
		if k.String() == name {
			t.Kind = k
			return t, nil
		}
	}
	return t, fmt.Errorf("unknown type %q", s)
}

// Location is where the result of load goes under prefix:
// <prefix><snapshot date>/<run id>/<source>/<table>/, with "_" for a load
// of no particular source.
func Location(prefix string, load warehouse.Load) string {
	src := load.Provenance.Source
	if src == "" {
		src = noSource
	}
	return fmt.Sprintf("%s%s/%d/%s/%s/", prefix, warehouse.Date(load.Provenance.SnapshotDate).Format(time.DateOnly),
		load.Provenance.RunID, src, load.Table)
}

// place is what a location says: parsed back from a ledger entry or a
// listing.
type place struct {
	date   string
	run    int64
	source string
	table  string
}

// parseLocation reads a location Location wrote under prefix.
func parseLocation(prefix, loc string) (place, bool) {
	rest, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		return place{}, false
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) != 4 || !strings.HasSuffix(rest, "/") {
		return place{}, false
	}
	if _, err := time.Parse(time.DateOnly, parts[0]); err != nil {
		return place{}, false
	}
	run, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || (parts[2] != noSource && !warehouse.IsIdent(parts[2])) || !warehouse.IsIdent(parts[3]) {
		return place{}, false
	}
	src := parts[2]
	if src == noSource {
		src = ""
	}
	return place{date: parts[0], run: run, source: src, table: parts[3]}, true
}

// readManifest reads and checks the manifest of the result at location.
func readManifest(ctx context.Context, b *blob.Bucket, location string) (*Manifest, []byte, error) {
	key := location + ManifestName
	data, err := b.ReadAll(ctx, key)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, nil, fmt.Errorf("result %s has no %s: it is incomplete (being written, failed or killed) and is not loaded", location, ManifestName)
		}
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("read %s: not a result manifest: %w", key, err)
	}
	switch {
	case m.Format != ManifestFormat:
		return nil, nil, fmt.Errorf("read %s: manifest format %d, this metricgate reads format %d", key, m.Format, ManifestFormat)
	case m.Location != location:
		return nil, nil, fmt.Errorf("read %s: the manifest says it belongs to %s: a copied or moved result is not loaded", key, m.Location)
	case m.File.Path != DataName || len(m.File.SHA256) != 64 || m.File.Bytes <= 0 || m.File.Rows < 0:
		return nil, nil, fmt.Errorf("read %s: bad file entry %+v", key, m.File)
	}
	load, err := m.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	if Location(strings.TrimSuffix(location, Location("", load)), load) != location {
		return nil, nil, fmt.Errorf("read %s: the table, source, run or snapshot date it names do not match its location", key)
	}
	return &m, data, nil
}

// OpenBucket opens the object storage results.storage_url names, as
// dump.OpenBucket does for dumps: file:///dir, s3://bucket?region=…, gs://bucket. The error
// never repeats the URL, which may hold credentials in its query.
func OpenBucket(ctx context.Context, url string) (*blob.Bucket, error) {
	if url == "" {
		return nil, errors.New("open results storage: results.storage_url is not set")
	}
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		scheme, _, _ := strings.Cut(url, "://")
		return nil, fmt.Errorf("open results storage (%s://…): %w", scheme, errors.New(strings.ReplaceAll(err.Error(), url, "…")))
	}
	return b, nil
}
