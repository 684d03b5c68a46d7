package dump

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// snapshotOf is the snapshot time t was read at.
func (m *Manifest) snapshotOf(t *Table) time.Time {
	if t != nil {
		if at, ok := m.Snapshots[t.Source]; ok {
			return at
		}
	}
	return m.SnapshotTime
}

func (def *Definition) table(name string) *Table {
	for _, t := range def.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// incrementalTables names the tables of def of mode incremental.
func (def *Definition) incrementalTables() []string {
	var out []string
	for _, t := range def.Tables {
		if t.Mode == KindIncremental {
			out = append(out, t.Name)
		}
	}
	return out
}

// Plan decides what the next dump of def is: an increment on base, or a
// full dump (base nil) for the reason why. kind is as for DumpKind. An
// increment needs every one of these, else the dump is full:
//
//   - a table of dump.yml has mode incremental, and there is a Recorder
//     (the history database) to keep the watermarks;
//   - every incremental table has a watermark, all of the same dump (the
//     base), and that dump is the newest complete one in storage (a dump
//     written while its watermarks were not — a crash between the two —
//     makes the next dump full rather than a second increment on the
//     same base);
//   - the base's manifest is there, was made with the same dump.yml
//     (config_sha256) and has the keys of every incremental table;
//   - the chain's full dump's snapshot is less than FullEvery older than
//     the new dump's (kind "" only); the dump checks this once it has
//     taken its snapshot, and Plan does not.
func (e *Exporter) Plan(ctx context.Context, def *Definition, kind warehouse.DumpMode) (base *Manifest, why string, err error) {
	switch kind {
	case "", KindFull, KindIncremental:
	default:
		return nil, "", fmt.Errorf("dump: kind %q: want full or incremental", kind)
	}
	base, why, err = e.plan(ctx, def, kind)
	if err == nil && base == nil && kind == KindIncremental {
		return nil, "", fmt.Errorf("dump: no increment possible: %s (run a full dump first)", why)
	}
	return base, why, err
}

func (e *Exporter) plan(ctx context.Context, def *Definition, kind warehouse.DumpMode) (*Manifest, string, error) {
	incr := def.incrementalTables()
	switch {
	case kind == KindFull:
		return nil, "asked for a full dump", nil
	case len(incr) == 0:
		return nil, "no table of " + def.Path + " has mode incremental", nil
	case e.rec == nil:
		return nil, "no history database to keep watermarks in", nil
	}
	marks, err := e.rec.DumpWatermarks(ctx, def.Group)
	if err != nil {
		return nil, "", err
	}
	if len(marks) == 0 {
		return nil, "no watermark yet: the first dump is full", nil
	}
	byTable := map[string]history.Watermark{}
	for _, w := range marks {
		byTable[w.Table] = w
	}
	location := marks[0].Location
	for _, name := range incr {
		w, ok := byTable[name]
		if !ok {
			return nil, fmt.Sprintf("table %s has no watermark (newly incremental)", name), nil
		}
		if w.Location != location {
			return nil, fmt.Sprintf("the watermarks belong to different dumps (%s, %s)", location, w.Location), nil
		}
	}
	dumps, err := listDumps(ctx, e.bucket, e.cfg.Prefix)
	if err != nil {
		return nil, "", err
	}
	newest := ""
	for _, d := range dumps {
		if d.complete {
			newest = d.location
		}
	}
	if newest != location {
		return nil, fmt.Sprintf("the watermarks belong to %s, but the newest complete dump in storage is %q", location, newest), nil
	}
	base, err := readManifest(ctx, e.bucket, location)
	if err != nil {
		return nil, "", err
	}
	if base.ConfigSHA256 != def.SHA256 {
		return nil, def.Path + " changed since the previous dump " + location, nil
	}
	for _, name := range incr {
		i := slices.IndexFunc(base.Tables, func(t ManifestTable) bool { return t.Name == name })
		if i < 0 || base.Tables[i].Keys == nil {
			return nil, fmt.Sprintf("the previous dump %s has no keys of table %s", location, name), nil
		}
	}
	return base, "", nil
}

// fullDue says why the dump at snapshot snap is full rather than an
// increment on base: the chain's full dump's snapshot is FullEvery or
// more older than snap. Snapshot against snapshot, not the wall clock: a
// source restored from a backup hours old reads as of the backup, and
// the full dump is due when the data, not the clock, moved on by
// FullEvery.
func (e *Exporter) fullDue(base *Manifest, snap time.Time) string {
	full := cmp.Or(base.FullSnapshotTime, base.SnapshotTime)
	if age := snap.Sub(full); age >= e.cfg.FullEvery {
		return fmt.Sprintf("the last full dump's snapshot is %s older than this one's (full_every %s): reconcile", age.Round(time.Minute), e.cfg.FullEvery)
	}
	return ""
}
