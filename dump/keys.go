package dump

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"

	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// keySink collects the keys of a COPY … (FORMAT csv) of one integer
// column.
type keySink struct {
	keys    []int64
	pending []byte
	// flag: each row is key,t or key,f (a key and whether it is in the
	// scope), kept in flags.
	flag  bool
	flags []bool
}

func (k *keySink) Write(p []byte) (int, error) {
	buf := p
	if len(k.pending) > 0 {
		k.pending = append(k.pending, p...)
		buf = k.pending
	}
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := buf[:i]
		if k.flag {
			c := bytes.LastIndexByte(line, ',')
			if c < 0 {
				return 0, fmt.Errorf("changed key %q: want key,flag", line)
			}
			k.flags = append(k.flags, string(line[c+1:]) == "t")
			line = line[:c]
		}
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("key %q: not an integer: the key of an incremental table must be an integer column", line)
		}
		k.keys = append(k.keys, n)
		buf = buf[i+1:]
	}
	k.pending = append(k.pending[:0], buf...)
	return len(p), nil
}

// keysLevel is the gzip level of the keys files: they are read by the
// next dump only, and sorted integers compress well at any level.
const keysLevel = 1

// writeKeyFile writes keys, one a row under a header, as name.csv.gz in
// one file.
func writeKeyFile(ctx context.Context, b *blob.Bucket, location, name, key string, keys []int64, level int) ([]ManifestFile, error) {
	s := newSink(ctx, b, location, name, math.MaxInt64, level, nil, nil)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, quoteIdentCSV(key)...)
	buf = append(buf, '\n')
	for _, k := range keys {
		buf = strconv.AppendInt(buf, k, 10)
		buf = append(buf, '\n')
		if len(buf) >= 60<<10 {
			if _, err := s.Write(buf); err != nil {
				return nil, s.abort(err)
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := s.Write(buf); err != nil {
			return nil, s.abort(err)
		}
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return s.files, nil
}

// quoteIdentCSV is a column name as a CSV header field (identifiers need
// no quoting).
func quoteIdentCSV(s string) string { return s }

// keyCache holds the base's keys files read so far in a dump: the
// changed objects (changedEntities) and the table's own job read the
// same ones.
type keyCache struct {
	mu   sync.Mutex
	keys map[string][]int64
}

// read is readKeys, once per file.
func (c *keyCache) read(ctx context.Context, f *warehouse.DumpFile) ([]int64, error) {
	c.mu.Lock()
	keys, ok := c.keys[f.Name]
	c.mu.Unlock()
	if ok {
		return keys, nil
	}
	keys, err := readKeys(ctx, f)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.keys[f.Name] = keys
	c.mu.Unlock()
	return keys, nil
}

// readKeys reads a keys file of an earlier dump, verified against its
// manifest.
func readKeys(ctx context.Context, f *warehouse.DumpFile) ([]int64, error) {
	r, err := f.OpenCSV(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's keys: %w", err)
	}
	defer func() { _ = r.Close() }() // read-only
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's keys: %w", err)
	}
	_, body, _ := bytes.Cut(data, []byte{'\n'})
	var ks keySink
	if _, err := ks.Write(body); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	if int64(len(ks.keys)) != f.Rows {
		return nil, &warehouse.CorruptError{File: f.Name, Why: fmt.Sprintf("%d keys, the manifest says %d", len(ks.keys), f.Rows)}
	}
	if !slices.IsSorted(ks.keys) {
		return nil, &warehouse.CorruptError{File: f.Name, Why: "keys not sorted"}
	}
	return ks.keys, nil
}
