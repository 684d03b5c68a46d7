package dump

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// candidates works out an increment of the table from the rows that may
// have changed (candidatesSQL): the keys now are the base's, less the
// rows deleted (no longer in the table) and the candidates out of the
// scope, plus the candidates in it; those are the upserts, and the
// base's keys not kept are the deletes.
func (j *tableJob) candidates(ctx context.Context, conn *pgx.Conn, cfg Config) ([]int64, error) {
	start := time.Now()
	defer func() { j.keysTime = time.Since(start) }()
	lap := func(name string) {
		j.phases = append(j.phases, slog.Duration(name, time.Since(start)))
	}
	prev, err := j.baseKeys.read(ctx, j.prevKeys)
	if err != nil {
		return nil, err
	}
	lap("read_prev")
	// The keys that may be gone: every key of the table, in the scope or
	// not, read here and never written anywhere (a summary of them in the
	// dump would count the rows out of the scope; see # Increments in the
	// package documentation).
	var all keySink
	if _, err := conn.PgConn().CopyTo(ctx, &all, "COPY ("+j.def.allKeysSQL(j.table)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy keys: %w", err)
	}
	lap("all_keys")
	slices.Sort(all.keys)
	lap("sort")
	var cs keySink
	cs.flag = true
	if _, err := conn.PgConn().CopyTo(ctx, &cs, "COPY ("+j.def.candidatesSQL(j.table, j.from, j.changed)+") TO STDOUT (FORMAT csv)"); err != nil {
		return nil, fmt.Errorf("copy changed keys: %w", err)
	}
	lap("candidates")
	if len(all.pending) > 0 || len(cs.pending) > 0 {
		return nil, errors.New("copy keys: the stream ended inside a row")
	}
	// Every step a merge of sorted lists: a map of the candidates and a
	// binary search per key of the base cost more than the queries.
	cands := make([]candidate, len(cs.keys))
	for i, k := range cs.keys {
		cands[i] = candidate{key: k, in: cs.flags[i]}
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.key, b.key) })
	var upserts []int64
	for _, c := range cands {
		if c.in {
			upserts = append(upserts, c.key)
		}
	}
	upserts = slices.Compact(upserts)
	kept, left := make([]int64, 0, len(prev)), []int64(nil)
	ai, ci := 0, 0
	for _, k := range prev {
		for ai < len(all.keys) && all.keys[ai] < k {
			ai++
		}
		exists := ai < len(all.keys) && all.keys[ai] == k
		for ci < len(cands) && cands[ci].key < k {
			ci++
		}
		if ci < len(cands) && cands[ci].key == k && !cands[ci].in {
			exists = false // a candidate now out of the scope
		}
		if exists {
			kept = append(kept, k)
		} else {
			left = append(left, k)
		}
	}
	keys := mergeKeys(kept, upserts)
	lap("compare")
	if len(left) == 0 && len(keys) == len(prev) {
		// No key left and none entered (keys ⊇ prev, as long): the base's
		// keys file, verified as it was read, copied as it is rather than
		// compressed again.
		f := ManifestFile{Path: j.table.Name + ".keys.csv.gz", SHA256: j.prevKeys.SHA256(), Bytes: j.prevKeys.Bytes, Rows: j.prevKeys.Rows}
		if err := j.sink.bucket.Copy(ctx, j.location+f.Path, j.prevKeys.Name, nil); err != nil {
			return nil, fmt.Errorf("copy the keys file %s to %s: %w", j.prevKeys.Name, j.location+f.Path, err)
		}
		j.keysFile = &f
	} else {
		files, err := writeKeyFile(ctx, j.sink.bucket, j.location, j.table.Name+".keys", j.table.Key, keys, keysLevel)
		if err != nil {
			return nil, err
		}
		j.keysFile = &files[0]
	}
	lap("write_keys")
	if err := j.writeDeletes(ctx, cfg, left); err != nil {
		return nil, err
	}
	lap("write_deletes")
	return upserts, nil
}

// candidate is a key of candidatesSQL and whether it is in the scope.
type candidate struct {
	key int64
	in  bool
}

// mergeKeys is the sorted union of two sorted lists of keys.
func mergeKeys(a, b []int64) []int64 {
	out := make([]int64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// changedEntities works out, in the main snapshot, the objects of each
// kind the fast jobs' scopes read that entered or left the scope since
// the base: those that changed (changedEntitySQL) whose status now
// differs from the base's (their key among the base's keys of the
// table of that kind, when the table is incremental; else every changed
// one counts). Rows pointing at any other object keep their status.
func (e *Exporter) changedEntities(ctx context.Context, tx pgx.Tx, def *Definition, base *Manifest, jobs []*tableJob, cache *keyCache) (map[string][]int64, error) {
	need := map[string]bool{}
	var from time.Time
	for _, j := range jobs {
		if !j.fast {
			continue
		}
		from = j.from
		switch k := j.table.Scope.Kind; k {
		case "target", "event":
			for _, tt := range targetTypes {
				need[tt.kind] = true
			}
		default:
			need[k] = true
		}
	}
	for _, k := range slices.Backward(scopeKindTable) { // a kind's reads come before it
		if need[k.name] {
			for _, r := range k.reads {
				need[r] = true
			}
		}
	}
	changed := map[string][]int64{}
	for _, kind := range entityKinds {
		if !need[kind] {
			continue
		}
		var prev []int64
		known := false
		if t := def.table(entityTable(kind)); t != nil && t.Mode == KindIncremental && t.Scope.Kind == kind && t.Scope.Column == "id" && t.Key == "id" {
			i := slices.IndexFunc(base.Tables, func(bt ManifestTable) bool { return bt.Name == t.Name })
			if i >= 0 && base.Tables[i].Keys != nil {
				k := base.Tables[i].Keys
				var err error
				if prev, err = cache.read(ctx, bucketFile(e.bucket, base.Location+k.Path, *k)); err != nil {
					return nil, err
				}
				known = true
			}
		}
		rows, err := tx.Query(ctx, def.changedEntitySQL(kind, from, changed))
		if err != nil {
			return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
		}
		for rows.Next() {
			var id int64
			var in bool
			if err := rows.Scan(&id, &in); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
			}
			if _, was := slices.BinarySearch(prev, id); !known || was != in {
				changed[kind] = append(changed[kind], id)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read the changed objects of kind %s: %w", kind, err)
		}
		slices.Sort(changed[kind])
	}
	return changed, nil
}

// diffKeys returns the keys of cur not in prev (rows that entered the
// scope) and of prev not in cur (rows deleted or gone out of the scope).
// Both inputs are sorted.
func diffKeys(prev, cur []int64) (entered, left []int64) {
	i, j := 0, 0
	for i < len(prev) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(prev) && prev[i] < cur[j]):
			left = append(left, prev[i])
			i++
		case i == len(prev) || cur[j] < prev[i]:
			entered = append(entered, cur[j])
			j++
		default:
			i++
			j++
		}
	}
	return entered, left
}
