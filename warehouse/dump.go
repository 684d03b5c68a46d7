package warehouse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"
)

// DumpMode says what a dump, or one table of it, holds: everything, or
// the changes since the dump it applies on (its base). It is the kind of
// a dump's manifest and ledger entry, the mode of each of its tables and
// of each table of dump.yml.
type DumpMode string

// The dump modes.
const (
	// DumpFull is a whole dump, or a whole table: it replaces what the
	// warehouse holds.
	DumpFull DumpMode = "full"
	// DumpIncremental is an increment, or a table of one: upserts and
	// the keys of deleted rows, applied on the base.
	DumpIncremental DumpMode = "incremental"
)

// LedgerTable is the table, in the dump's schema, in which a warehouse
// records every dump it loaded: the warehouse's own account of what it
// holds, which the loader reads to decide what to load. It is written in
// the transaction that loads the dump, so it cannot disagree with the
// tables, and it goes with the warehouse: a new or restored warehouse
// holds the ledger of its own tables, or none.
const LedgerTable = "metricgate_ledger"

// LedgerEntry is one row of a warehouse's ledger: one dump, full or
// increment, that it loaded. Its columns, in every warehouse: seq,
// location, kind, base (NULL for a full dump), snapshot_time, table_count,
// row_count, loaded_at, tool.
type LedgerEntry struct {
	// Seq numbers the entries 1, 2, … in the order they were written; the
	// warehouse assigns it (max + 1 in the same transaction).
	Seq int64
	// Location is the dump's directory in storage (dumps/<date>/<run>/).
	Location string
	// Kind is DumpFull or DumpIncremental.
	Kind DumpMode
	// Base is an increment's base location; "" for a full dump.
	Base string
	// SnapshotTime is the dump's snapshot time (the source's as-of time).
	SnapshotTime time.Time
	// Tables and Rows are what was loaded: tables, and rows plus deleted
	// keys.
	Tables, Rows int64
	// LoadedAt is when the load started.
	LoadedAt time.Time
	// Tool is the loading binary: "metricgate <version>".
	Tool string
}

// LedgerColumns are the ledger's columns, in the order ScanLedger reads
// them.
var LedgerColumns = []string{"seq", "location", "kind", "base", "snapshot_time", "table_count", "row_count", "loaded_at", "tool"}

// ScanLedger reads the rows of a ledger query that selects LedgerColumns
// in that order: the one scan of every database/sql warehouse driver.
func ScanLedger(rows *sql.Rows) ([]LedgerEntry, error) {
	var out []LedgerEntry
	for rows.Next() {
		var (
			e                LedgerEntry
			kind             string
			base, tool       sql.NullString
			snap             sql.NullTime
			tables, rowCount sql.NullInt64
		)
		if err := rows.Scan(&e.Seq, &e.Location, &kind, &base, &snap, &tables, &rowCount, &e.LoadedAt, &tool); err != nil {
			return nil, err
		}
		e.Kind = DumpMode(kind)
		e.Base, e.SnapshotTime, e.Tables, e.Rows, e.Tool = base.String, snap.Time, tables.Int64, rowCount.Int64, tool.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// DumpTable is one table of a dump to load.
type DumpTable struct {
	Name string
	// Columns in file order; pseudonymized columns are text. Array
	// columns hold JSON arrays in the files ("[1,2,3]").
	Columns []Column
	// Rows is the manifest's row count.
	Rows  int64
	Files []*DumpFile
	// Mode is DumpFull or, in an increment, DumpIncremental.
	Mode DumpMode
	// Key is the key column of an incremental table.
	Key string
	// Deletes hold the keys to delete (one column named Key, with a
	// header), DeleteRows of them; incremental tables only.
	Deletes    []*DumpFile
	DeleteRows int64
}

// Incremental reports whether t is an incremental table of an
// increment: upserts and deleted keys rather than the whole table.
func (t DumpTable) Incremental() bool { return t.Mode == DumpIncremental }

// DeletedKeys is the table of an incremental table's deleted keys, as a
// warehouse stages it: named <table>__deletes, with the key column only
// (none when Columns lacks it), DeleteRows rows in the Deletes files.
func (t DumpTable) DeletedKeys() DumpTable {
	var key []Column
	for _, c := range t.Columns {
		if c.Name == t.Key {
			key = append(key, c)
		}
	}
	return DumpTable{Name: t.Name + "__deletes", Columns: key, Rows: t.DeleteRows, Files: t.Deletes}
}

// DumpFile is one gzip-compressed CSV file with a header row. Its bytes
// are checked against the manifest's SHA-256 and size as they are read:
// a mismatch is an error of the read that reaches the end, never io.EOF,
// so a corrupt file fails the load that reads it.
type DumpFile struct {
	// Name is the file's key in the bucket, for messages.
	Name string
	// Bytes is the compressed size, Rows the rows without the header.
	Bytes, Rows int64
	sha256      string
	open        func(ctx context.Context) (io.ReadCloser, error)
}

// NewDumpFile returns the file name whose compressed bytes open reads,
// which must be size bytes with the hex SHA-256 sum, and hold rows rows.
func NewDumpFile(name string, size, rows int64, sum string, open func(ctx context.Context) (io.ReadCloser, error)) *DumpFile {
	return &DumpFile{Name: name, Bytes: size, Rows: rows, sha256: sum, open: open}
}

// SHA256 is the hex SHA-256 of the compressed bytes, as the manifest
// says.
func (f *DumpFile) SHA256() string { return f.sha256 }

// Open returns the verified compressed bytes.
func (f *DumpFile) Open(ctx context.Context) (io.ReadCloser, error) {
	r, err := f.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	return &verifier{r: r, f: f, h: sha256.New()}, nil
}

// OpenCSV returns the verified, decompressed CSV.
func (f *DumpFile) OpenCSV(ctx context.Context) (io.ReadCloser, error) {
	v, err := f.Open(ctx)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(v)
	if err != nil {
		_ = v.Close()
		return nil, corrupt(f, err)
	}
	return &csvReader{gz: gz, v: v.(*verifier), f: f}, nil
}

// CopyTo writes the verified compressed bytes to w.
func (f *DumpFile) CopyTo(ctx context.Context, w io.Writer) error {
	r, err := f.Open(ctx)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return errors.Join(err, r.Close())
}

// CorruptError is a dump file that does not match its manifest.
type CorruptError struct {
	File string
	Why  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s is corrupt (%s): the dump is refused and the warehouse keeps its previous tables", e.File, e.Why)
}

func corrupt(f *DumpFile, err error) error {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return err
	}
	return &CorruptError{File: f.Name, Why: err.Error()}
}

type verifier struct {
	r   io.ReadCloser
	f   *DumpFile
	h   hash.Hash
	n   int64
	err error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.f.Bytes {
		v.err = &CorruptError{File: v.f.Name, Why: fmt.Sprintf("longer than the manifest's %d bytes", v.f.Bytes)}
		return 0, v.err
	}
	if errors.Is(err, io.EOF) {
		switch sum := hex.EncodeToString(v.h.Sum(nil)); {
		case v.n != v.f.Bytes:
			v.err = &CorruptError{File: v.f.Name, Why: fmt.Sprintf("truncated: %d of the manifest's %d bytes", v.n, v.f.Bytes)}
		case sum != v.f.sha256:
			v.err = &CorruptError{File: v.f.Name, Why: fmt.Sprintf("sha256 %s…, the manifest says %s…", sum[:12], v.f.sha256[:12])}
		default:
			v.err = io.EOF
		}
		return n, v.err
	}
	if err != nil {
		v.err = fmt.Errorf("read %s: %w", v.f.Name, err)
		return n, v.err
	}
	return n, nil
}

func (v *verifier) Close() error { return v.r.Close() }

type csvReader struct {
	gz *gzip.Reader
	v  *verifier
	f  *DumpFile
}

func (c *csvReader) Read(p []byte) (int, error) {
	n, err := c.gz.Read(p)
	if errors.Is(err, io.EOF) {
		// The gzip stream ended: the file must end too, and match.
		if _, derr := io.Copy(io.Discard, c.v); derr != nil {
			return n, corrupt(c.f, derr)
		}
		if c.v.err != nil && !errors.Is(c.v.err, io.EOF) {
			return n, c.v.err
		}
		return n, io.EOF
	}
	if err != nil {
		return n, corrupt(c.f, err)
	}
	return n, nil
}

func (c *csvReader) Close() error { return errors.Join(c.gz.Close(), c.v.Close()) }
