//go:build !no_duckdb

package runner_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/gitlabfake"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/warehouse"
	"gitlab.com/metricgate/metricgate/warehouse/warehousetest"
)

// roleQueries builds a catalog from name → file text whose source headers
// name the roles main and ci.
func roleQueries(t *testing.T, files map[string]string) *catalog.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name+".sql"] = &fstest.MapFile{Data: []byte(text)}
	}
	cat, err := catalog.Load(fsys, catalog.Config{Sources: []string{"main", "ci"}})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// bySource returns the rows of tb whose _source is source, without the
// provenance columns.
func bySource(t *testing.T, tb *warehouse.Table, source string) *warehouse.Table {
	t.Helper()
	src := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_source" })
	if src < 0 {
		t.Fatalf("no _source column in %v", tb.Columns)
	}
	part := &warehouse.Table{Columns: tb.Columns}
	for _, r := range tb.Rows {
		if r[src] == source {
			part.Rows = append(part.Rows, r)
		}
	}
	return warehousetest.Project(part, warehousetest.QueryColumns(tb)...)
}

// sourcesOf returns the distinct _source values of tb, sorted.
func sourcesOf(t *testing.T, tb *warehouse.Table) []any {
	t.Helper()
	src := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_source" })
	if src < 0 {
		t.Fatalf("no _source column in %v", tb.Columns)
	}
	var out []any
	for _, r := range tb.Rows {
		if !slices.Contains(out, r[src]) {
			out = append(out, r[src])
		}
	}
	slices.SortFunc(out, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	return out
}

// TestEverySourceOfTheRole: two sources of role main and two of role ci,
// one of them in a cluster of its own (another cell), each loaded with
// other GitLab data. A ci query runs on both ci sources and a main query
// on both main sources, each source on its own snapshot: the table holds
// each source's rows under its name in _source, equal to what the query
// returns on that database alone, and the history has one query run per
// query and source. When the other cell's cluster is down, only its query
// runs fail (the run is partial) and its rows from the earlier run stay;
// a third ci source added to the config loads its rows on the next run.
func TestEverySourceOfTheRole(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t)
	cell, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cell.Stop(context.WithoutCancel(ctx)) })
	if err := cell.CreateDatabase(ctx, "ci_eu"); err != nil {
		t.Fatal(err)
	}
	dsns := map[string]string{
		"main":    e.sourceDSN,
		"main_eu": pgtest.New(t),
		"ci":      pgtest.New(t),
		"ci_eu":   cell.DSN("ci_eu"),
		"ci_us":   pgtest.New(t),
	}
	conns := map[string]*pgx.Conn{}
	for i, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range dsns {
			if !yield(k) {
				return
			}
		}
	}) {
		conns[name] = pgtest.Connect(t, dsns[name])
		if _, err := gitlabfake.Load(ctx, conns[name], gitlabfake.Options{Seed: int64(i + 1)}); err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
	}
	cat := roleQueries(t, map[string]string{
		"weekly_pipelines": query(`SELECT date_trunc('week', created_at)::date AS week, count(*) AS pipelines,
			count(DISTINCT project_id) AS actors FROM ci_pipelines GROUP BY 1`, "source: ci", "load: append"),
		"projects_by_visibility": query(`SELECT visibility_level, count(*) AS actors FROM projects GROUP BY 1`, "load: replace", "entity: namespace"),
	})
	want := map[string]map[string]*warehouse.Table{} // query → source → rows
	for _, q := range cat.Queries {
		want[q.Name] = map[string]*warehouse.Table{}
		for name, conn := range conns {
			want[q.Name][name] = direct(t, conn, q)
		}
	}
	sources := func(names ...string) map[string]runner.Source {
		m := map[string]runner.Source{}
		for _, name := range names {
			role, cellName, _ := strings.Cut(name, "_")
			m[name] = runner.Source{URL: dsns[name], Role: role, Cell: cellName}
		}
		return m
	}
	check := func(res *runner.Result, q *catalog.Query, names []string, ok map[string]bool) {
		t.Helper()
		tb := e.read(q.Target)
		var wantSources []any
		for _, name := range names {
			wantSources = append(wantSources, name)
		}
		if got := sourcesOf(t, tb); !slices.Equal(got, wantSources) {
			t.Errorf("%s: _source values %v, want %v", q.Name, got, wantSources)
		}
		for _, name := range names {
			if len(want[q.Name][name].Rows) == 0 {
				t.Fatalf("%s on %s: no rows pass the filter; the test data are too small", q.Name, name)
			}
			if d := warehousetest.Diff(want[q.Name][name], bySource(t, tb, name)); d != "" {
				t.Errorf("%s: rows of %s differ from the query on %s alone:\n%s", q.Name, name, name, d)
			}
		}
		var runs []string
		for _, qr := range res.Queries {
			if qr.Query != q.Name {
				continue
			}
			runs = append(runs, qr.Source)
			switch {
			case ok[qr.Source] && (qr.Status != history.QuerySucceeded || qr.RowsLoaded != int64(len(want[q.Name][qr.Source].Rows))):
				t.Errorf("%s on %s: %s, %d rows loaded (%s); want succeeded, %d", q.Name, qr.Source, qr.Status, qr.RowsLoaded, qr.Error, len(want[q.Name][qr.Source].Rows))
			case !ok[qr.Source] && qr.Status != history.QueryFailed:
				t.Errorf("%s on %s: %s, want failed", q.Name, qr.Source, qr.Status)
			}
		}
		if wantRuns := slices.Sorted(func(yield func(string) bool) {
			for name := range ok {
				if strings.HasPrefix(name, q.Source) && !yield(name) {
					return
				}
			}
		}); !slices.Equal(runs, wantRuns) {
			t.Errorf("%s: query runs on %v, want one on each of %v", q.Name, runs, wantRuns)
		}
	}
	all := map[string]bool{"main": true, "main_eu": true, "ci": true, "ci_eu": true}
	ci, _ := cat.Lookup("weekly_pipelines")
	main, _ := cat.Lookup("projects_by_visibility")

	// Two sources of each role.
	r := e.runner(runner.Config{Sources: sources("main", "main_eu", "ci", "ci_eu")}, nil, nil)
	res, err := r.Run(ctx, runner.Options{Queries: cat.Queries})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != history.RunSucceeded {
		t.Fatalf("run %s (%s): %+v", res.Status, res.Error, res.Queries)
	}
	check(res, ci, []string{"ci", "ci_eu"}, all)
	check(res, main, []string{"main", "main_eu"}, all)
	stored, err := e.store.QueryRuns(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 4 {
		t.Errorf("history has %d query runs, want 4 (2 queries × 2 sources): %+v", len(stored), stored)
	}
	firstRun := res.RunID

	// The eu cell's cluster is down: its ci source fails alone.
	if err := cell.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = r.Run(ctx, runner.Options{Queries: cat.Queries})
	if err != nil {
		t.Fatal(err)
	}
	down := map[string]bool{"main": true, "main_eu": true, "ci": true, "ci_eu": false}
	if res.Status != history.RunPartial || !strings.Contains(res.Error, "source ci_eu: ") {
		t.Errorf("run with ci_eu down: %s %q, want partial, naming ci_eu", res.Status, res.Error)
	}
	check(res, ci, []string{"ci", "ci_eu"}, down)
	check(res, main, []string{"main", "main_eu"}, down)
	for _, qr := range res.Queries {
		if qr.Source == "ci_eu" && !strings.HasPrefix(qr.Error, "source ci_eu: ") {
			t.Errorf("%s on ci_eu: error %q, want it to name the source", qr.Query, qr.Error)
		}
	}
	// ci_eu's rows are those of the first run, ci's those of this one.
	runOf := func(source string) []int64 {
		tb := e.read(ci.Target)
		src := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_source" })
		run := slices.IndexFunc(tb.Columns, func(c warehouse.Column) bool { return c.Name == "_run_id" })
		var runs []int64
		for _, row := range tb.Rows {
			if row[src] == source && !slices.Contains(runs, row[run].(int64)) {
				runs = append(runs, row[run].(int64))
			}
		}
		return runs
	}
	if got := runOf("ci_eu"); !slices.Equal(got, []int64{firstRun}) {
		t.Errorf("ci_eu's rows are from runs %v, want the first run %d only", got, firstRun)
	}
	if got := runOf("ci"); !slices.Equal(got, []int64{res.RunID}) {
		t.Errorf("ci's rows are from runs %v, want run %d only", got, res.RunID)
	}

	// A third ci source, by configuration alone (ci_eu is still down).
	r = e.runner(runner.Config{Sources: sources("main", "main_eu", "ci", "ci_eu", "ci_us")}, nil, nil)
	res, err = r.Run(ctx, runner.Options{Queries: []*catalog.Query{ci}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != history.RunPartial {
		t.Errorf("run with ci_us added, ci_eu down: %s (%s), want partial", res.Status, res.Error)
	}
	check(res, ci, []string{"ci", "ci_eu", "ci_us"}, map[string]bool{"ci": true, "ci_eu": false, "ci_us": true})
}

// TestNoSourceOfTheRole: a query whose role no configured source has fails
// with a message naming the role; the others run.
func TestNoSourceOfTheRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	cat := roleQueries(t, map[string]string{
		"on_ci":   query(perGroup, "source: ci"),
		"on_main": query(perGroup),
	})
	res, err := e.runner(runner.Config{}, nil, nil).Run(t.Context(), runner.Options{Queries: cat.Queries})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(res)
	if qr := got["on_ci"]; qr.Status != history.QueryFailed || !strings.Contains(qr.Error, `no source has role "ci"`) {
		t.Errorf("on_ci: %s %q, want failed: no source has role \"ci\"", qr.Status, qr.Error)
	}
	if qr := got["on_main"]; qr.Status != history.QuerySucceeded || qr.Source != "main" {
		t.Errorf("on_main: %s on %q (%s), want succeeded on main", qr.Status, qr.Source, qr.Error)
	}
	if res.Status != history.RunPartial {
		t.Errorf("run %s, want partial", res.Status)
	}
}

// TestGroupSizeFilterPerSource: the group-size filter sees each source's
// rows alone. A group of 6 actors in each of two sources (12 together,
// min_group_size 10) is suppressed in both: never merged across sources
// before the filter. For groups that pass in every source, counts and sums
// summed across _source equal the result on one database holding both
// sources' data; for the suppressed group the sum is a lower bound (0 of
// 12 here), which rows_suppressed per source tells.
func TestGroupSizeFilterPerSource(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t)
	eu := pgtest.New(t)
	both := pgtest.New(t) // the two sources' data in one database
	// Group 1: 6 actors in each source; group 2: 15 and 20; group 3: 40 and 10.
	// Actors are distinct across sources (ids offset by source), as users of
	// two cells are.
	seed := func(dsn string, offset int, sizes map[int]int) {
		conn := pgtest.Connect(t, dsn)
		if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS events (k int NOT NULL, actor int NOT NULL, v bigint NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for k, n := range sizes {
			if _, err := conn.Exec(ctx, `INSERT INTO events SELECT $1, $2 + a, a * $1 FROM generate_series(1, $3) a`, k, offset, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	mainSizes, euSizes := map[int]int{1: 6, 2: 15, 3: 40}, map[int]int{1: 6, 2: 20, 3: 10}
	seed(e.sourceDSN, 0, mainSizes)
	seed(eu, 1000, euSizes)
	seed(both, 0, mainSizes)
	seed(both, 1000, euSizes)

	cat := roleQueries(t, map[string]string{
		"per_k": query(`SELECT k, count(*) AS events, count(DISTINCT actor) AS actors, sum(v) AS total FROM events GROUP BY k`),
	})
	srcs := map[string]runner.Source{"main": {URL: e.sourceDSN}, "main_eu": {URL: eu, Role: "main", Cell: "eu"}}
	res, err := e.runner(runner.Config{Sources: srcs}, nil, nil).Run(ctx, runner.Options{Queries: cat.Queries})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != history.RunSucceeded || len(res.Queries) != 2 {
		t.Fatalf("run %s: %+v", res.Status, res.Queries)
	}
	for _, qr := range res.Queries {
		// main: groups 2 and 3 pass, 1 is suppressed; eu: 2 and 3 (10) pass, 1 is suppressed.
		if qr.RowsLoaded != 2 || qr.RowsSuppressed != "1-9" {
			t.Errorf("%s: loaded %d, suppressed %s; want 2 and 1-9", qr.Source, qr.RowsLoaded, qr.RowsSuppressed)
		}
	}
	tb := e.read("per_k")
	for _, src := range []string{"main", "main_eu"} {
		if ks := column(t, bySource(t, tb, src), "k"); !slices.Equal(ks, []int64{2, 3}) {
			t.Errorf("%s loaded groups %v, want [2 3]: group 1 has 6 actors there", src, ks)
		}
	}

	// Summed across _source vs one database holding both.
	sum := map[int64][3]float64{}
	p := warehousetest.Project(tb, "k", "events", "actors", "total")
	for _, r := range p.Rows {
		s := sum[r[0].(int64)]
		s[0] += float64(r[1].(int64))
		s[1] += float64(r[2].(int64))
		s[2] += r[3].(warehouse.Decimal).Float64()
		sum[r[0].(int64)] = s
	}
	conn := pgtest.Connect(t, both)
	rows, err := conn.Query(ctx, `SELECT k, count(*), count(DISTINCT actor), sum(v)::float8 FROM events GROUP BY k ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	single := map[int64][3]float64{}
	for rows.Next() {
		var k, events, actors int64
		var total float64
		if err := rows.Scan(&k, &events, &actors, &total); err != nil {
			t.Fatal(err)
		}
		single[k] = [3]float64{float64(events), float64(actors), total}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int64{2, 3} {
		if sum[k] != single[k] {
			t.Errorf("group %d: events, actors, total summed across sources %v, on one database %v", k, sum[k], single[k])
		}
	}
	if _, ok := sum[1]; ok {
		t.Errorf("group 1 (6 + 6 actors) reached the warehouse: %v", sum[1])
	}
	if single[1][1] != 12 {
		t.Fatalf("group 1 has %v actors on one database, want 12 (it would pass there)", single[1][1])
	}
}

// TestEverySourceGetsItsRecord: a query skipped for its approval, refused
// by the guard or in an invalid file gets a query run on every source of
// its role, so that each source's status shows why; the results are in the
// order of the queries, then of the sources.
func TestEverySourceGetsItsRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(12, 1)
	eu := pgtest.New(t)
	if _, err := pgtest.Connect(t, eu).Exec(t.Context(), `CREATE TABLE events (k int NOT NULL, actor int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	cat := roleQueries(t, map[string]string{
		"a_approved":   query(perGroup),
		"b_unapproved": query(perGroup, "target: unapproved_t"),
		"c_leaky":      query(`SELECT actor, count(*) AS actors FROM events GROUP BY k`),
	})
	srcs := map[string]runner.Source{"main": {URL: e.sourceDSN}, "main_eu": {URL: eu, Role: "main", Cell: "eu"}}
	approver := approveOnly{"a_approved": true, "c_leaky": true}
	res, err := e.runner(runner.Config{Sources: srcs}, nil, approver).Run(t.Context(), runner.Options{Queries: cat.Queries,
		Invalid: []runner.Invalid{{Query: cat.Queries[0], Problems: []string{"x.sql:1:1: broken"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, qr := range res.Queries {
		got = append(got, qr.Query+"@"+qr.Source+"="+string(qr.Status))
	}
	want := []string{
		"a_approved@main=succeeded", "a_approved@main_eu=succeeded",
		"b_unapproved@main=skipped", "b_unapproved@main_eu=skipped",
		"c_leaky@main=failed", "c_leaky@main_eu=failed",
		"a_approved@main=failed", "a_approved@main_eu=failed", // the invalid file
	}
	if !slices.Equal(got, want) {
		t.Errorf("query runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stored, err := e.store.QueryRuns(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(want) {
		t.Errorf("history has %d query runs, want %d", len(stored), len(want))
	}
	// main_eu's events table is empty: its run succeeds with no rows.
	if eu := res.Queries[1]; eu.RowsLoaded != 0 || res.Queries[0].RowsLoaded != 3 {
		t.Errorf("rows loaded: main %d, main_eu %d; want 3 and 0", res.Queries[0].RowsLoaded, eu.RowsLoaded)
	}
}
