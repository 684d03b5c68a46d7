package dump

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gocloud.dev/blob"
)

// Key buckets: how an increment finds the rows deleted since its base
// without reading every key of the table.
//
// Every dump keeps, per incremental table, a summary of all the table's
// keys (in the scope or not): for each bucket of 2^bucketShift
// consecutive keys (k >> bucketShift), how many rows it has and the
// bit_xor of hashint8extended(k, 0) over them (<table>.buckets.csv.gz).
// An increment computes the same summary in its snapshot (one scan of the
// key's index that returns about one row in a thousand), fetches the keys
// of the buckets whose summary differs from the base's, and only there
// looks for the base's keys that are gone.
//
// Why a bucket whose summary is equal has the same keys (so none of the
// base's keys in it were deleted): let A be its keys at the base and B
// now. If A ≠ B, their symmetric difference D = A △ B is not empty, and
// the digests are equal only when the xor of h(k) over D is 0, h being
// hashint8extended. A row count alone misses a delete and an insert in
// one bucket, a sum of keys misses {3, 7} replaced by {4, 6}; the xor of
// a well-mixed 64-bit hash misses a difference only when the hashes of D
// cancel out, which for any fixed D (keys are handed out by the
// database's sequences, nobody picks them to collide) happens with
// probability 2^-64: with a million differing buckets a day, once in
// 5·10^10 years. hashint8extended is the hash PostgreSQL partitions
// tables by, so it must give the same value on every version and
// platform (hash partitions survive pg_upgrade); if it did not, buckets
// would differ and the increment would just fetch more keys. The other
// way, a differing bucket with the same keys costs a fetch, not a wrong
// result. TestIncrementsEqualFullDump and TestIncrementGapAndCorrupt
// delete rows and compare what the increments load with a full dump.
//
// bit_xor needs PostgreSQL 14; on an older source the increments read
// every key as before (hasBuckets).
const bucketShift = 10

// keyBucket is one bucket's summary.
type keyBucket struct {
	id, rows, digest int64
}

// hasBuckets says whether the source computes the buckets' summaries
// (bit_xor: PostgreSQL 14).
func hasBuckets(conn *pgx.Conn) bool {
	v := conn.PgConn().ParameterStatus("server_version")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(strings.TrimFunc(major, func(r rune) bool { return r < '0' || r > '9' }))
	return err == nil && n >= 14
}

// bucketsSQL summarizes every key of t by bucket (see bucketShift).
func (def *Definition) bucketsSQL(t *Table) string {
	k := "t." + quoteIdent(t.Key) + "::int8"
	return fmt.Sprintf("SELECT %s >> %d, count(*), bit_xor(hashint8extended(%s, 0)) FROM %s t GROUP BY 1",
		k, bucketShift, k, def.scope(nil).rel(t.Name))
}

// bucketKeysSQL selects every key of t in the buckets given.
func (def *Definition) bucketKeysSQL(t *Table, ids []int64) string {
	k := "t." + quoteIdent(t.Key)
	return fmt.Sprintf("SELECT %s FROM unnest(%s) b(b) JOIN %s t ON %s >= b.b << %d AND %s < (b.b + 1) << %d",
		k, intArray(ids), def.scope(nil).rel(t.Name), k, bucketShift, k, bucketShift)
}

// queryBuckets reads the summary of t's keys, sorted by bucket.
func (j *tableJob) queryBuckets(ctx context.Context, conn *pgx.Conn) ([]keyBucket, error) {
	rows, err := conn.Query(ctx, j.def.bucketsSQL(j.table))
	if err != nil {
		return nil, fmt.Errorf("summarize the keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyBucket, error) {
		var b keyBucket
		err := r.Scan(&b.id, &b.rows, &b.digest)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("summarize the keys: %w", err)
	}
	slices.SortFunc(out, func(a, b keyBucket) int { return cmpInt(a.id, b.id) })
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// diffBuckets returns, sorted, the buckets whose summary differs between
// a and b (both sorted), or that only one of them has.
func diffBuckets(a, b []keyBucket) []int64 {
	var out []int64
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].id < b[j].id):
			out = append(out, a[i].id)
			i++
		case i == len(a) || b[j].id < a[i].id:
			out = append(out, b[j].id)
			j++
		default:
			if a[i] != b[j] {
				out = append(out, a[i].id)
			}
			i++
			j++
		}
	}
	return out
}

// writeBucketFile writes the summary as name.csv.gz (bucket,rows,digest).
func writeBucketFile(ctx context.Context, b *blob.Bucket, location, name string, buckets []keyBucket) (*ManifestFile, error) {
	s := newSink(ctx, b, location, name, math.MaxInt64, keysLevel, nil, nil)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, "bucket,rows,digest\n"...)
	for _, k := range buckets {
		buf = strconv.AppendInt(buf, k.id, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, k.rows, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, k.digest, 10)
		buf = append(buf, '\n')
		if len(buf) >= 60<<10 {
			if _, err := s.Write(buf); err != nil {
				return nil, s.abort(err)
			}
			buf = buf[:0]
		}
	}
	if _, err := s.Write(buf); err != nil {
		return nil, s.abort(err)
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return &s.files[0], nil
}

// readBuckets reads a buckets file of an earlier dump, verified against
// its manifest.
func readBuckets(ctx context.Context, f *LoadFile) ([]keyBucket, error) {
	r, err := f.OpenCSV(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's key buckets: %w", err)
	}
	defer func() { _ = r.Close() }() // read-only
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the previous dump's key buckets: %w", err)
	}
	_, body, _ := bytes.Cut(data, []byte{'\n'})
	var out []keyBucket
	for line := range bytes.Lines(body) {
		fields := strings.Split(strings.TrimSuffix(string(line), "\n"), ",")
		if len(fields) != 3 {
			return nil, &CorruptError{File: f.Name, Why: fmt.Sprintf("line %q: want bucket,rows,digest", line)}
		}
		var v [3]int64
		for i, s := range fields {
			if v[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, &CorruptError{File: f.Name, Why: fmt.Sprintf("line %q: not integers", line)}
			}
		}
		out = append(out, keyBucket{id: v[0], rows: v[1], digest: v[2]})
	}
	if int64(len(out)) != f.Rows {
		return nil, &CorruptError{File: f.Name, Why: fmt.Sprintf("%d buckets, the manifest says %d", len(out), f.Rows)}
	}
	if !slices.IsSortedFunc(out, func(a, b keyBucket) int { return cmpInt(a.id, b.id) }) {
		return nil, &CorruptError{File: f.Name, Why: "buckets not sorted"}
	}
	return out, nil
}

// writeBuckets writes the summary of the table's keys in this dump: a
// copy of the base's file when it is the same.
func (j *tableJob) writeBuckets(ctx context.Context, now, base []keyBucket) error {
	if j.prevBuckets != nil && slices.Equal(now, base) {
		f := ManifestFile{Path: j.table.Name + ".buckets.csv.gz", SHA256: j.prevBuckets.sha256, Bytes: j.prevBuckets.Bytes, Rows: j.prevBuckets.Rows}
		if err := j.sink.bucket.Copy(ctx, j.location+f.Path, j.prevBuckets.Name, nil); err != nil {
			return fmt.Errorf("copy the key buckets %s to %s: %w", j.prevBuckets.Name, j.location+f.Path, err)
		}
		j.bucketsFile = &f
		return nil
	}
	f, err := writeBucketFile(ctx, j.sink.bucket, j.location, j.table.Name+".buckets", now)
	if err != nil {
		return err
	}
	j.bucketsFile = f
	return nil
}
