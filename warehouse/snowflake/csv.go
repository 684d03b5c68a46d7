//go:build !no_snowflake

package snowflake

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Go layouts of dateFormat, ntzFormat and tzFormat.
const (
	dateLayout = "2006-01-02"
	ntzLayout  = "2006-01-02 15:04:05.000000000"
	tzLayout   = "2006-01-02 15:04:05.000000000 -07:00"
)

// nullField is how a NULL is written: unquoted, so it cannot be confused
// with the text \N, which is written quoted.
const nullField = `\N`

// encodeRow appends one CSV record of vals (in the Go types of
// warehouse.Rows) to buf: every non-NULL value quoted, NULL as nullField.
func encodeRow(buf []byte, vals []any, cols []warehouse.Column) ([]byte, error) {
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		if v == nil {
			buf = append(buf, nullField...)
			continue
		}
		s, err := field(v, cols[i].Type)
		if err != nil {
			return buf, fmt.Errorf("column %s: %w", cols[i].Name, err)
		}
		buf = append(buf, '"')
		buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
		buf = append(buf, '"')
	}
	return append(buf, '\n'), nil
}

// field renders a non-NULL value of type t as the text its column's
// conversion (convertSQL) reads.
func field(v any, t warehouse.Type) (string, error) {
	if t.Array {
		a, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("got %T, want []any", v)
		}
		et := t
		et.Array = false
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range a {
			if i > 0 {
				b.WriteByte(',')
			}
			s, err := jsonElement(e, et)
			if err != nil {
				return "", fmt.Errorf("element %d: %w", i, err)
			}
			b.WriteString(s)
		}
		b.WriteByte(']')
		return b.String(), nil
	}
	switch t.Kind {
	case warehouse.KindInt:
		if i, ok := v.(int64); ok {
			return strconv.FormatInt(i, 10), nil
		}
	case warehouse.KindNumeric:
		switch d := v.(type) {
		case warehouse.Decimal:
			return d.String(), nil
		case float64: // tolerated: a driver may hand over a double
			return formatFloat(d), nil
		}
	case warehouse.KindFloat:
		if f, ok := v.(float64); ok {
			return formatFloat(f), nil
		}
	case warehouse.KindBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case warehouse.KindDate:
		if d, ok := v.(time.Time); ok {
			return d.Format(dateLayout), nil
		}
	case warehouse.KindTimestamp:
		if ts, ok := v.(time.Time); ok {
			return ts.Format(ntzLayout), nil
		}
	case warehouse.KindTimestampTZ:
		if ts, ok := v.(time.Time); ok {
			return ts.UTC().Format(tzLayout), nil
		}
	case warehouse.KindInterval:
		if iv, ok := v.(warehouse.Interval); ok {
			return iv.String(), nil
		}
	case warehouse.KindJSON:
		if s, ok := v.(string); ok {
			if !json.Valid([]byte(s)) {
				return "", fmt.Errorf("invalid JSON %.40q", s)
			}
			return s, nil
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("got %T for a %v column", v, t)
}

// formatFloat renders f as Snowflake's FLOAT reads it, including its
// special values.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// jsonElement renders an array element as JSON: numbers as numbers
// (decimals with all their digits), NaN and infinities, dates, times and
// intervals as the strings field writes, JSON as itself.
func jsonElement(v any, t warehouse.Type) (string, error) {
	if v == nil {
		return "null", nil
	}
	s, err := field(v, t)
	if err != nil {
		return "", err
	}
	switch t.Kind {
	case warehouse.KindInt, warehouse.KindNumeric, warehouse.KindBool, warehouse.KindJSON:
		return s, nil
	case warehouse.KindFloat:
		if f := v.(float64); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return s, nil
		}
	}
	b, err := json.Marshal(s)
	return string(b), err
}

// DefaultFileSize is the uncompressed size at which a load starts a new
// file, keeping each PUT and the local disk use bounded.
const DefaultFileSize = 64 << 20

// spool writes rows as gzip CSV files of about limit uncompressed bytes
// into dir, calling flush with each finished file (which flush may
// remove), and returns the number of rows. Only one file exists at a
// time: memory and disk use do not grow with the result.
func spool(rows warehouse.Rows, cols []warehouse.Column, dir string, limit int64, flush func(path string) error) (int64, error) {
	var (
		n    int64
		f    *os.File
		bw   *bufio.Writer
		gz   *gzip.Writer
		size int64
		buf  []byte
		seq  int
	)
	finish := func() error {
		if f == nil {
			return nil
		}
		err := gz.Close()
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		path := f.Name()
		f = nil
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return flush(path)
	}
	abort := func() {
		// The load is failing already with a better error; the file is a
		// partial spool file in a temporary directory the caller removes.
		if f != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			abort()
			return n, err
		}
		if len(vals) != len(cols) {
			abort()
			return n, fmt.Errorf("row %d: %d values for %d columns", n+1, len(vals), len(cols))
		}
		if buf, err = encodeRow(buf[:0], vals, cols); err != nil {
			abort()
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		if f == nil {
			seq++
			f, err = os.Create(filepath.Join(dir, fmt.Sprintf("part-%06d.csv.gz", seq)))
			if err != nil {
				return n, fmt.Errorf("create load file: %w", err)
			}
			bw = bufio.NewWriterSize(f, 1<<16)
			gz = gzip.NewWriter(bw)
			size = 0
		}
		if _, err := gz.Write(buf); err != nil {
			abort()
			return n, fmt.Errorf("write %s: %w", f.Name(), err)
		}
		n++
		size += int64(len(buf))
		if size >= limit {
			if err := finish(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		abort()
		return n, err
	}
	return n, finish()
}
