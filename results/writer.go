package results

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// Config configures a Writer and a Loader. Zero values mean the defaults.
type Config struct {
	// Prefix is where results are in the bucket. Default "results/".
	Prefix string
	// Tool is written to every manifest (Writer) and ledger entry
	// (Loader): "metricgate <version>". Default "metricgate".
	Tool string
	// Schema is the warehouse schema of the ledger of loaded results
	// (Loader only); it holds nothing else. Default "metricgate_results".
	Schema string
}

func (c Config) withDefaults() Config {
	c.Prefix = cmp.Or(c.Prefix, DefaultPrefix)
	c.Tool = cmp.Or(c.Tool, "metricgate")
	c.Schema = cmp.Or(c.Schema, "metricgate_results")
	return c
}

// Writer writes query results to object storage instead of a warehouse:
// the runner's Writer on the production side when results.storage_url is
// set.
type Writer struct {
	cfg    Config
	bucket *blob.Bucket
	now    func() time.Time
}

var _ runner.Writer = (*Writer)(nil)

// NewWriter returns a Writer into b. The caller closes b.
func NewWriter(cfg Config, b *blob.Bucket) *Writer {
	return &Writer{cfg: cfg.withDefaults(), bucket: b, now: time.Now}
}

// Write writes rows as the result of load: the data file (gzip CSV,
// streamed, hashed while written), then the manifest, which commits it.
// A manifest already at the location (the same run writing the same
// query again) is deleted first, so a result is never a manifest over
// another write's data. On an error nothing is committed: the data
// upload is aborted and no manifest is written. It returns the rows
// written.
func (w *Writer) Write(ctx context.Context, load warehouse.Load, rows warehouse.Rows) (int64, error) {
	if err := load.Validate(); err != nil {
		return 0, err
	}
	if s := load.Provenance.Source; s != "" && !warehouse.IsIdent(s) {
		return 0, fmt.Errorf("table %s: source %q: not a lower-case identifier", load.Table, s)
	}
	loc := Location(w.cfg.Prefix, load)
	if err := w.bucket.Delete(ctx, loc+ManifestName); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return 0, fmt.Errorf("write result %s: remove the previous manifest: %w", loc, err)
	}
	file, err := w.writeData(ctx, loc+DataName, load, rows)
	if err != nil {
		return 0, fmt.Errorf("write result %s: %w", loc, err)
	}
	m := Manifest{Format: ManifestFormat, Tool: w.cfg.Tool, Location: loc, Table: load.Table, Mode: load.Mode, File: file,
		Provenance: ManifestProvenance{
			SnapshotTime: load.Provenance.SnapshotDate.UTC(), SnapshotDate: warehouse.Date(load.Provenance.SnapshotDate).Format(time.DateOnly),
			RunID: load.Provenance.RunID, QuerySHA256: load.Provenance.QuerySHA256, Commit: load.Provenance.Commit,
			MRIID: load.Provenance.MRIID, Source: load.Provenance.Source, LoadedAt: load.Provenance.LoadedAt.UTC(),
		},
		WrittenAt: w.now().UTC(),
	}
	for _, c := range load.Columns {
		m.Columns = append(m.Columns, ManifestColumn{Name: c.Name, Type: c.Type.String(), Source: c.Source})
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("write result %s: %w", loc, err)
	}
	if err := w.bucket.WriteAll(ctx, loc+ManifestName, data, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return 0, fmt.Errorf("write result %s: commit %s: %w", loc, ManifestName, err)
	}
	return file.Rows, nil
}

// writeData streams rows into key as gzip CSV and describes the file.
func (w *Writer) writeData(ctx context.Context, key string, load warehouse.Load, rows warehouse.Rows) (_ ManifestFile, err error) {
	upload, abort := context.WithCancel(ctx)
	defer abort()
	bw, err := w.bucket.NewWriter(upload, key, &blob.WriterOptions{ContentType: "application/gzip"})
	if err != nil {
		return ManifestFile{}, err
	}
	defer func() {
		if err != nil {
			abort() // gocloud: a write whose context is cancelled before Close is discarded
			_ = bw.Close()
		}
	}()
	h := sha256.New()
	var size countWriter
	gz, err := gzip.NewWriterLevel(io.MultiWriter(bw, h, &size), gzip.DefaultCompression)
	if err != nil {
		return ManifestFile{}, err
	}
	cw := newCSVWriter(gz)
	fields := make([]*string, len(load.Columns))
	texts := make([]string, len(load.Columns))
	for i, c := range load.Columns {
		texts[i] = c.Name
		fields[i] = &texts[i]
	}
	if err := cw.write(fields); err != nil {
		return ManifestFile{}, err
	}
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return ManifestFile{}, err
		}
		if len(vals) != len(load.Columns) {
			return ManifestFile{}, fmt.Errorf("row %d has %d values for %d columns", n+1, len(vals), len(load.Columns))
		}
		for i, v := range vals {
			if v == nil {
				fields[i] = nil
				continue
			}
			if texts[i], err = encodeValue(load.Columns[i].Type, v); err != nil {
				return ManifestFile{}, fmt.Errorf("row %d, column %s: %w", n+1, load.Columns[i].Name, err)
			}
			fields[i] = &texts[i]
		}
		if err := cw.write(fields); err != nil {
			return ManifestFile{}, err
		}
		n++
		if n%1024 == 0 {
			if err := context.Cause(ctx); err != nil {
				return ManifestFile{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return ManifestFile{}, err
	}
	if err := context.Cause(ctx); err != nil {
		return ManifestFile{}, err
	}
	if err := errors.Join(cw.flush(), gz.Close()); err != nil {
		return ManifestFile{}, err
	}
	if err := bw.Close(); err != nil {
		return ManifestFile{}, err
	}
	return ManifestFile{Path: DataName, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: size.n, Rows: n}, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
