package runner_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/runner"
)

// TestResourceBounds runs pathological queries against the bounds of
// their source: each ends within its bound, fails alone and records which
// bound it ran into.
func TestResourceBounds(t *testing.T) {
	t.Parallel()
	const cartesian = "SELECT a.k, count(DISTINCT a.author_id) AS actors\nFROM events a, events b, events c, events d\nGROUP BY a.k"
	cases := []struct {
		name   string
		source runner.Source
		sql    string
		header []string
		rows   int // events to seed
		want   string
	}{
		{name: "cartesian_over_the_source_max_cost", source: runner.Source{MaxCost: 1e6}, sql: cartesian, rows: 100,
			want: "EXPLAIN cost [0-9]+ is above max_cost 1000000: not run"},
		{name: "header_lowers_max_cost", source: runner.Source{MaxCost: 1e12}, sql: cartesian, header: []string{"max_cost: 5000"}, rows: 100,
			want: "EXPLAIN cost [0-9]+ is above max_cost 5000: not run"},
		{name: "header_may_not_raise_max_cost", source: runner.Source{MaxCost: 1e6}, sql: cartesian, header: []string{"max_cost: 1000000000"}, rows: 10,
			want: `max_cost 1000000000 of the query's header is above the max_cost 1000000 of source main \(sources.main.max_cost\): a header may lower it, not raise it; not run`},
		{name: "sort_spills_over_temp_file_limit", source: runner.Source{WorkMem: "64kB", TempFileLimit: "1MB"}, rows: 300_000,
			sql:  "SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k",
			want: `query ran over its temp_file_limit 1MB \(SQLSTATE 53400 configuration_limit_exceeded\)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.exec(`CREATE TABLE labels (id int PRIMARY KEY, title text NOT NULL)`)
			e.exec(`CREATE TABLE events (id bigserial PRIMARY KEY, author_id int NOT NULL, label_id int NOT NULL, k int NOT NULL)`)
			e.exec(`INSERT INTO events (author_id, label_id, k) SELECT a, 1, a % 3 FROM generate_series(1, $1::int) a`, c.rows)
			e.exec(`ANALYZE events`)
			src := c.source
			src.URL = e.sourceDSN
			var log bytes.Buffer
			r := e.sealedRunner(runner.Config{Sources: map[string]runner.Source{"main": src}}, &log)
			qs := buildQueries(t, map[string]string{c.name: query(c.sql, c.header...)})
			start := time.Now()
			res, err := r.Run(t.Context(), runner.Options{Queries: qs})
			if err != nil {
				t.Fatal(err)
			}
			qr := res.Queries[0]
			if qr.Status != history.QueryFailed || !regexpMatch(c.want, qr.Error) {
				t.Errorf("%s %q, want failed %q", qr.Status, qr.Error, c.want)
			}
			t.Logf("%s in %s: %s", qr.Status, time.Since(start).Round(time.Millisecond), qr.Error)
		})
	}
}

// TestTempFileLimitOfARoleThatMayNotSetIt: a role that is not a superuser
// cannot SET temp_file_limit; its queries run with the role's own setting,
// and the run says once, for the source, how to set it on the role.
func TestTempFileLimitOfARoleThatMayNotSetIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedCanary()
	role := fmt.Sprintf("mg_reader_%d", time.Now().UnixNano())
	e.exec(`CREATE ROLE ` + role + ` LOGIN`)
	t.Cleanup(func() {
		ctx := context.Background() // t.Context() is done in cleanups
		admin, err := pgx.Connect(ctx, e.sourceDSN)
		if err != nil {
			t.Error(err)
			return
		}
		defer func() { _ = admin.Close(ctx) }()
		for _, sql := range []string{`DROP OWNED BY ` + role, `DROP ROLE ` + role} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				t.Error(err)
			}
		}
	})
	e.exec(`GRANT SELECT ON events, labels TO ` + role)
	u, err := url.Parse(e.sourceDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	var log bytes.Buffer
	r := e.sealedRunner(runner.Config{Sources: map[string]runner.Source{"main": {URL: u.String()}}}, &log)
	sql := "SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k"
	qs := buildQueries(t, map[string]string{"one": query(sql), "two": query(sql)})
	res, err := r.Run(t.Context(), runner.Options{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	for _, qr := range res.Queries {
		if qr.Status != history.QuerySucceeded {
			t.Errorf("%s: %s %q", qr.Query, qr.Status, qr.Error)
		}
	}
	fix := fmt.Sprintf(`ALTER ROLE %s SET temp_file_limit = '1GB'`, role)
	if n := strings.Count(log.String(), "may not set temp_file_limit"); n != 1 || !strings.Contains(log.String(), fix) {
		t.Errorf("%d warnings about temp_file_limit, want 1 saying %q:\n%s", n, fix, log.String())
	}
}

// TestSourceBoundsDefaults: a source without bounds gets max_cost 1e9,
// which plan shows.
func TestSourceBoundsDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedCanary()
	g, err := guard.New(guard.Config{Schema: sealedSchema()})
	if err != nil {
		t.Fatal(err)
	}
	qs := buildQueries(t, map[string]string{"q": query("SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k")})
	p, err := runner.PlanQuery(t.Context(), runner.Source{URL: e.sourceDSN}, g, qs[0])
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxCost != 1e9 || len(p.Problems) > 0 {
		t.Errorf("plan: max_cost %v, problems %q; want 1e9 and none", p.MaxCost, p.Problems)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
