package dump

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"gocloud.dev/blob"
)

// pseudonymLen is how many bytes of the HMAC a pseudonym keeps: 16 (128
// bits, 32 hex digits), a truncation RFC 2104 §5 allows; collisions among
// even billions of distinct values are out of reach (birthday bound 2^64).
const pseudonymLen = 16

// PseudonymScheme describes pseudonyms in the manifest.
const PseudonymScheme = "hex(first 16 bytes of HMAC-SHA256(key, value as PostgreSQL prints it))"

// pseudonymizer turns values into their keyed HMAC, deterministically, so
// that the same user id gets the same pseudonym in every table and dump
// made with the same key. It caches recent values: ids repeat.
type pseudonymizer struct {
	mac   hash.Hash
	sum   []byte
	cache map[string][]byte
}

func newPseudonymizer(key []byte) *pseudonymizer {
	return &pseudonymizer{mac: hmac.New(sha256.New, key), cache: map[string][]byte{}}
}

// Pseudonym returns hex(HMAC-SHA256(key, value)[:16]), the value of a
// pseudonymized column for value, for tests and for analysts who hold the
// key.
func Pseudonym(key []byte, value string) string {
	return string(newPseudonymizer(key).of([]byte(value)))
}

func (p *pseudonymizer) of(v []byte) []byte {
	if h, ok := p.cache[string(v)]; ok {
		return h
	}
	p.mac.Reset()
	p.mac.Write(v)
	p.sum = p.mac.Sum(p.sum[:0])
	h := make([]byte, 2*pseudonymLen)
	hex.Encode(h, p.sum[:pseudonymLen])
	if len(p.cache) >= 1<<16 {
		clear(p.cache)
	}
	p.cache[string(v)] = h
	return h
}

// sink receives one table's COPY … (FORMAT csv, HEADER) stream, rewrites
// pseudonymized fields, and writes gzip-compressed parts to the bucket,
// starting a new part (with the header again) at a row boundary once the
// current one reaches the split size. COPY sends one row per message, so
// each Write is usually one whole row; the sink does not rely on it.
type sink struct {
	ctx      context.Context
	bucket   *blob.Bucket
	location string
	table    string
	split    int64
	level    int
	// pseudo marks the pseudonymized fields by position; nil when none.
	pseudo []bool
	p      *pseudonymizer

	header  []byte // the header row, written at the top of each part
	pending []byte // an incomplete row (pseudonymizing only)
	inQuote bool   // inside a quoted field at the end of the last Write
	atStart bool   // the last byte seen ended a row
	out     []byte // scratch for rewritten rows

	part  *part
	files []ManifestFile
	rows  int64
	// progress counters read by the progress reporter.
	rowsSeen, bytesOut *atomic.Int64
}

// part is one file being written.
type part struct {
	w *blob.Writer
	// cancel aborts the write: closing a writer whose context is done
	// discards what was written instead of committing it.
	cancel context.CancelFunc
	gz     *gzip.Writer
	sum    hash.Hash
	n      countWriter
	path   string
	rows   int64
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newSink(ctx context.Context, b *blob.Bucket, location, table string, split int64, level int, pseudo []bool, key []byte) *sink {
	s := &sink{ctx: ctx, bucket: b, location: location, table: table, split: split, level: level, atStart: true,
		rowsSeen: new(atomic.Int64), bytesOut: new(atomic.Int64)}
	for _, ps := range pseudo {
		if ps {
			s.pseudo, s.p = pseudo, newPseudonymizer(key)
			break
		}
	}
	return s
}

func (s *sink) openPart() error {
	n := len(s.files) + 1
	path := s.table + ".csv.gz"
	if n > 1 {
		path = fmt.Sprintf("%s.part%d.csv.gz", s.table, n)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	w, err := s.bucket.NewWriter(ctx, s.location+path, &blob.WriterOptions{ContentType: "application/gzip", BufferSize: 4 << 20})
	if err != nil {
		cancel()
		return fmt.Errorf("create %s%s: %w", s.location, path, err)
	}
	pt := &part{w: w, cancel: cancel, sum: sha256.New(), path: path}
	pt.n.w = io.MultiWriter(w, pt.sum)
	gz, err := gzip.NewWriterLevel(&pt.n, s.level)
	if err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	pt.gz = gz
	s.part = pt
	if _, err := gz.Write(s.header); err != nil {
		return s.abort(err)
	}
	return nil
}

// closePart finishes the current part and records it.
func (s *sink) closePart() error {
	pt := s.part
	s.part = nil
	defer pt.cancel()
	if err := pt.gz.Close(); err != nil {
		pt.cancel()
		_ = pt.w.Close() // aborted: the compression error is the one to report
		return fmt.Errorf("compress %s: %w", pt.path, err)
	}
	if err := pt.w.Close(); err != nil {
		return fmt.Errorf("write %s%s: %w", s.location, pt.path, err)
	}
	s.bytesOut.Add(pt.n.n)
	s.files = append(s.files, ManifestFile{Path: pt.path, SHA256: hex.EncodeToString(pt.sum.Sum(nil)), Bytes: pt.n.n, Rows: pt.rows})
	return nil
}

func (s *sink) abort(err error) error {
	if s.part != nil {
		// Abort the write (cancel before Close), so that no half file is
		// committed to storage.
		s.part.cancel()
		_ = s.part.gz.Close()
		_ = s.part.w.Close()
		s.part = nil
	}
	return err
}

// Write takes the next bytes of the COPY stream.
func (s *sink) Write(p []byte) (int, error) {
	if s.header == nil {
		// The header is the first message; it has no quotes (column names
		// are identifiers).
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			return len(p), nil
		}
		s.header = append(append(s.pending, p[:i+1]...), []byte(nil)...)
		s.pending = nil
		p = p[i+1:]
		if err := s.openPart(); err != nil {
			return 0, err
		}
		if len(p) == 0 {
			return i + 1, nil
		}
		n, err := s.Write(p)
		return n + i + 1, err
	}
	if s.part == nil {
		if err := s.openPart(); err != nil {
			return 0, err
		}
	}
	var err error
	if s.pseudo != nil {
		err = s.writePseudonymized(p)
	} else {
		err = s.writeRaw(p)
	}
	if err != nil {
		return 0, s.abort(err)
	}
	if s.atStart && s.part.n.n >= s.split {
		if err := s.closePart(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeRaw passes p through, counting the rows it ends.
func (s *sink) writeRaw(p []byte) error {
	if _, err := s.part.gz.Write(p); err != nil {
		return fmt.Errorf("compress %s: %w", s.part.path, err)
	}
	var rows int64
	if !s.inQuote && bytes.IndexByte(p, '"') < 0 {
		rows = int64(bytes.Count(p, []byte{'\n'}))
		s.atStart = p[len(p)-1] == '\n'
	} else {
		for _, c := range p {
			switch {
			case c == '"':
				s.inQuote = !s.inQuote
			case c == '\n' && !s.inQuote:
				rows++
			}
		}
		s.atStart = !s.inQuote && p[len(p)-1] == '\n'
	}
	s.part.rows += rows
	s.rows += rows
	s.rowsSeen.Add(rows)
	return nil
}

// writePseudonymized rewrites the pseudonymized fields of every complete
// row in pending+p and keeps an incomplete last row for the next Write.
func (s *sink) writePseudonymized(p []byte) error {
	buf := p
	if len(s.pending) > 0 {
		s.pending = append(s.pending, p...)
		buf = s.pending
	}
	out := s.out[:0]
	start, field, fieldStart := 0, 0, 0
	quoted := false
	inQuote := false
	var rows int64
	emit := func(end int) {
		f := buf[fieldStart:end]
		if field < len(s.pseudo) && s.pseudo[field] && len(f) > 0 {
			v := f
			if quoted {
				v = bytes.ReplaceAll(f[1:len(f)-1], []byte(`""`), []byte(`"`))
			}
			out = append(out, s.p.of(v)...)
		} else {
			out = append(out, f...)
		}
	}
	for i := 0; i < len(buf); i++ {
		c := buf[i]
		switch {
		case c == '"':
			if i == fieldStart {
				quoted = true
			}
			inQuote = !inQuote
		case inQuote:
		case c == ',':
			emit(i)
			out = append(out, ',')
			field++
			fieldStart, quoted = i+1, false
		case c == '\n':
			emit(i)
			out = append(out, '\n')
			rows++
			start, field, fieldStart, quoted = i+1, 0, i+1, false
		}
	}
	s.out = out
	if _, err := s.part.gz.Write(out); err != nil {
		return fmt.Errorf("compress %s: %w", s.part.path, err)
	}
	rest := buf[start:]
	s.pending = append(s.pending[:0], rest...)
	s.atStart = len(s.pending) == 0
	s.part.rows += rows
	s.rows += rows
	s.rowsSeen.Add(rows)
	return nil
}

// finish closes the last part after the COPY ended. A table without rows
// still gets one file, with the header only.
func (s *sink) finish() error {
	if len(s.pending) > 0 || s.inQuote {
		return s.abort(fmt.Errorf("table %s: the COPY stream ended inside a row", s.table))
	}
	if s.part == nil && len(s.files) == 0 {
		if s.header == nil {
			return fmt.Errorf("table %s: the COPY stream had no header", s.table)
		}
		if err := s.openPart(); err != nil {
			return err
		}
	}
	if s.part != nil {
		return s.closePart()
	}
	return nil
}
