package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// The CSV of a result is PostgreSQL's CSV (COPY … (FORMAT csv, HEADER)):
// a header row of the query's column names, then one record per row. A
// NULL is an empty unquoted field and an empty string a quoted one (""),
// so the files load as they are with COPY or DuckDB's read_csv too. Each
// value is written as its column's kind says (see encodeValue).

// csvWriter writes records, quoting a field only when it must.
type csvWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: bufio.NewWriterSize(w, 64<<10)} }

// write writes one record; a nil field is NULL.
func (c *csvWriter) write(fields []*string) error {
	c.buf = c.buf[:0]
	for i, f := range fields {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		if f == nil {
			continue
		}
		s := *f
		if s != "" && !strings.ContainsAny(s, ",\"\r\n\\") && s[0] != ' ' && s[len(s)-1] != ' ' {
			c.buf = append(c.buf, s...)
			continue
		}
		c.buf = append(c.buf, '"')
		c.buf = append(c.buf, strings.ReplaceAll(s, `"`, `""`)...)
		c.buf = append(c.buf, '"')
	}
	c.buf = append(c.buf, '\n')
	_, err := c.w.Write(c.buf)
	return err
}

func (c *csvWriter) flush() error { return c.w.Flush() }

// csvReader reads the records csvWriter writes, telling a NULL (empty and
// unquoted) from an empty string (quoted).
type csvReader struct {
	r      *bufio.Reader
	line   int64
	fields []*string
	vals   []string
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{r: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// read returns the next record; io.EOF at the end of the input. The slice
// is reused by the next call.
func (c *csvReader) read() ([]*string, error) {
	c.fields, c.vals = c.fields[:0], c.vals[:0]
	var nulls []bool
	first := true
	for {
		b, err := c.r.ReadByte()
		if errors.Is(err, io.EOF) && first {
			return nil, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		first = false
		var field bytes.Buffer
		quoted := false
		switch {
		case err == nil && b == '"':
			quoted = true
			for {
				b, err := c.r.ReadByte()
				if err != nil {
					return nil, c.bad(err, "a quoted field does not end")
				}
				if b == '\n' {
					c.line++
				}
				if b != '"' {
					field.WriteByte(b)
					continue
				}
				next, err := c.r.ReadByte()
				if err == nil && next == '"' {
					field.WriteByte('"')
					continue
				}
				if err == nil {
					_ = c.r.UnreadByte()
				} else if !errors.Is(err, io.EOF) {
					return nil, err
				}
				break
			}
		case err == nil:
			_ = c.r.UnreadByte()
		}
		// Up to the end of the field.
		end := byte(0)
		for {
			b, err := c.r.ReadByte()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			if b == ',' || b == '\n' {
				end = b
				break
			}
			if quoted || b == '"' {
				return nil, c.bad(nil, fmt.Sprintf("unexpected %q in field %d", b, len(c.vals)+1))
			}
			field.WriteByte(b)
		}
		s := field.String()
		if !quoted {
			s = strings.TrimSuffix(s, "\r")
		}
		c.vals = append(c.vals, s)
		nulls = append(nulls, !quoted && s == "")
		if end != ',' {
			if end == 0 {
				return nil, c.bad(io.ErrUnexpectedEOF, "the last record does not end with a newline")
			}
			c.line++
			break
		}
	}
	for i := range c.vals {
		if nulls[i] {
			c.fields = append(c.fields, nil)
		} else {
			c.fields = append(c.fields, &c.vals[i])
		}
	}
	return c.fields, nil
}

func (c *csvReader) bad(err error, why string) error {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err // the verified file's own error (corrupt, truncated)
	}
	return fmt.Errorf("line %d: not CSV: %s", c.line, why)
}

// encodeValue is v's text in a result file:
//
//	text, json       the string
//	int              decimal digits
//	numeric          Decimal.String ("-12.50")
//	float            strconv 'g', shortest exact ("0.1", "NaN", "+Inf")
//	bool             true, false
//	date             2006-01-02
//	timestamp(tz)    RFC 3339 in UTC with nanoseconds as needed
//	interval         ISO 8601 (Interval.String: "P1Y2M3DT4H5M6.5S")
//	arrays           a JSON array of the elements: numbers and booleans
//	                 as JSON's, other kinds as strings of their text, null
func encodeValue(t warehouse.Type, v any) (string, error) {
	if t.Array {
		elems, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("want []any for %v, got %T", t, v)
		}
		parts := make([]json.RawMessage, len(elems))
		for i, e := range elems {
			if e == nil {
				parts[i] = json.RawMessage("null")
				continue
			}
			s, err := encodeScalar(t.Kind, e)
			if err != nil {
				return "", fmt.Errorf("element %d: %w", i+1, err)
			}
			switch {
			case t.Kind == warehouse.KindBool, t.Kind == warehouse.KindInt, t.Kind == warehouse.KindNumeric,
				t.Kind == warehouse.KindFloat && json.Valid([]byte(s)) && !strings.HasPrefix(s, "+"):
				parts[i] = json.RawMessage(s)
			default:
				b, err := json.Marshal(s)
				if err != nil {
					return "", err
				}
				parts[i] = b
			}
		}
		b, err := json.Marshal(parts)
		return string(b), err
	}
	return encodeScalar(t.Kind, v)
}

func encodeScalar(k warehouse.Kind, v any) (string, error) {
	switch k {
	case warehouse.KindText, warehouse.KindJSON:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case warehouse.KindInt:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10), nil
		}
	case warehouse.KindNumeric:
		switch d := v.(type) {
		case warehouse.Decimal:
			return d.String(), nil
		case float64: // a writer's reading of an unconstrained numeric
			if math.IsNaN(d) || math.IsInf(d, 0) {
				break
			}
			return strconv.FormatFloat(d, 'f', -1, 64), nil
		}
	case warehouse.KindFloat:
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'g', -1, 64), nil
		}
	case warehouse.KindBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case warehouse.KindDate:
		if t, ok := v.(time.Time); ok {
			return t.Format(time.DateOnly), nil
		}
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	case warehouse.KindInterval:
		if i, ok := v.(warehouse.Interval); ok {
			return i.String(), nil
		}
	}
	return "", fmt.Errorf("a %T is not a %v value", v, k)
}

// decodeValue reads s, as encodeValue wrote it, into the Go type
// warehouse.Rows documents for t.
func decodeValue(t warehouse.Type, s string) (any, error) {
	if !t.Array {
		return decodeScalar(t.Kind, s)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var elems []any
	if err := dec.Decode(&elems); err != nil {
		return nil, fmt.Errorf("not a JSON array: %w", err)
	}
	if elems == nil {
		return nil, errors.New("not a JSON array: null")
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		var text string
		switch e := e.(type) {
		case nil:
			continue
		case json.Number:
			text = e.String()
		case bool:
			text = strconv.FormatBool(e)
		case string:
			text = e
		default:
			return nil, fmt.Errorf("element %d: a %T", i+1, e)
		}
		v, err := decodeScalar(t.Kind, text)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

func decodeScalar(k warehouse.Kind, s string) (any, error) {
	switch k {
	case warehouse.KindText, warehouse.KindJSON:
		return s, nil
	case warehouse.KindInt:
		return strconv.ParseInt(s, 10, 64)
	case warehouse.KindNumeric:
		return parseDecimal(s)
	case warehouse.KindFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return f, nil
	case warehouse.KindBool:
		return strconv.ParseBool(s)
	case warehouse.KindDate:
		return time.Parse(time.DateOnly, s)
	case warehouse.KindTimestamp, warehouse.KindTimestampTZ:
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err
	case warehouse.KindInterval:
		return parseInterval(s)
	}
	return nil, fmt.Errorf("unknown kind %v", k)
}

// parseDecimal reads a plain decimal ("-12.50", "3", "1e3" is refused).
func parseDecimal(s string) (warehouse.Decimal, error) {
	whole, frac, _ := strings.Cut(s, ".")
	digits := whole + frac
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok || strings.ContainsAny(frac, "+-") {
		return warehouse.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return warehouse.Decimal{Int: n, Scale: int32(len(frac))}, nil
}

// parseInterval reads what Interval.String writes: P, then signed numbers
// with the units Y, M and D, and after a T, H, M and S (S with up to six
// decimals).
func parseInterval(s string) (warehouse.Interval, error) {
	var iv warehouse.Interval
	bad := func() (warehouse.Interval, error) {
		return warehouse.Interval{}, fmt.Errorf("%q is not an ISO 8601 interval", s)
	}
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return bad()
	}
	inTime := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad()
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] == '-' || rest[i] == '.' || (rest[i] >= '0' && rest[i] <= '9')) {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad()
		}
		num, unit := rest[:i], rest[i]
		rest = rest[i+1:]
		if unit == 'S' && inTime {
			whole, frac, _ := strings.Cut(num, ".")
			if len(frac) > 6 {
				return bad()
			}
			w, err := strconv.ParseInt(whole, 10, 64)
			if err != nil {
				return bad()
			}
			us := int64(0)
			if frac != "" {
				f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
				if err != nil {
					return bad()
				}
				us = f
			}
			if strings.HasPrefix(whole, "-") {
				us = -us
			}
			iv.Microseconds += w*1_000_000 + us
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return bad()
		}
		switch {
		case !inTime && unit == 'Y':
			iv.Months += int32(n * 12)
		case !inTime && unit == 'M':
			iv.Months += int32(n)
		case !inTime && unit == 'D':
			iv.Days += int32(n)
		case inTime && unit == 'H':
			iv.Microseconds += n * 3_600_000_000
		case inTime && unit == 'M':
			iv.Microseconds += n * 60_000_000
		default:
			return bad()
		}
	}
	return iv, nil
}
