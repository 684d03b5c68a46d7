package runner_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/redact"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
	"gitlab.com/metricgate/metricgate/schema"
)

// canary is a value only the source holds: a label title. No output of
// metricgate may ever show it.
const canary = "CANARY-SECRET-123"

// sealedSchema catalogs the tables of seedCanary: labels.title is a
// category (casts on it are allowed), so a query the guard accepts can
// still make the server quote a title in its error message.
var sealedSchema = sync.OnceValue(func() *schema.Catalog {
	cat, err := schema.Parse("sealed.yml", []byte(`version: test.1
tables:
  events:
    entity: [author_id]
    columns:
      id: key
      author_id: key
      label_id: key
      k: category
  labels:
    entity: []
    columns:
      id: key
      title: category
`))
	if err != nil {
		panic(err)
	}
	return cat
})

// seedCanary creates labels whose titles are numbers but one, the canary,
// and 40 events on them by 40 authors.
func (e *env) seedCanary() {
	e.exec(`CREATE TABLE labels (id int PRIMARY KEY, title text NOT NULL)`)
	e.exec(`INSERT INTO labels VALUES (1, '10'), (2, '20'), (3, $1)`, canary)
	e.exec(`CREATE TABLE events (id bigserial PRIMARY KEY, author_id int NOT NULL, label_id int NOT NULL, k int NOT NULL)`)
	e.exec(`INSERT INTO events (author_id, label_id, k) SELECT a, 1 + a % 3, a % 2 FROM generate_series(1, 40) a`)
}

// sealedRunner is a runner over e with the sealedSchema guard, logging
// everything into log.
func (e *env) sealedRunner(cfg runner.Config, log *bytes.Buffer) *runner.Runner {
	e.t.Helper()
	g, err := guard.New(guard.Config{Schema: sealedSchema()})
	if err != nil {
		e.t.Fatal(err)
	}
	if cfg.Sources == nil {
		cfg.Sources = map[string]runner.Source{"main": {URL: e.sourceDSN}}
	}
	cfg.Attempts = 1
	r, err := runner.New(cfg, runner.Deps{Guard: g, Writer: e.wh, Recorder: e.store, Approver: review.None{},
		Logger: slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// TestSourceErrorsAreSealed runs queries whose errors PostgreSQL words
// with a value of the source (the canary label title) or a position, a
// bound or a failed login: what the run returns, logs and records in the
// history is the SQLSTATE, its condition name, the position in the query
// file, the bound or the configured address, and never the canary or the
// password.
func TestSourceErrorsAreSealed(t *testing.T) {
	t.Parallel()
	const password = "pw-Sealed-77"
	// Each case's query file has a 3-line header and the SQL from line 4.
	cases := []struct {
		name   string
		sql    string
		header []string
		url    func(dsn string) string
		want   string // the recorded error, exactly
	}{
		{name: "cast_of_a_value", // the executor's error quotes the title: no position
			sql:  "SELECT e.k, count(DISTINCT e.author_id) AS actors\nFROM events e JOIN labels l ON l.id = e.label_id\nWHERE l.title::int > 0\nGROUP BY e.k",
			want: "query: SQLSTATE 22P02 invalid_text_representation in cast_of_a_value.sql"},
		{name: "literal_at_a_position", // the parser's error has a position: line 6, column 7
			sql:  "SELECT e.k, count(DISTINCT e.author_id) AS actors\nFROM events e JOIN labels l ON l.id = e.label_id\nWHERE l.title = 'x' AND 'CANARY-SECRET-123'::int > 0\nGROUP BY e.k",
			want: "explain: SQLSTATE 22P02 invalid_text_representation at literal_at_a_position.sql:6:25"},
		{name: "non_ascii_before_the_position", // positions count characters, not bytes
			sql:  "SELECT e.k, count(DISTINCT e.author_id) AS actors -- größe\nFROM events e JOIN labels l ON l.id = e.label_id\nWHERE l.title = 'é' AND 1/0 > 0 AND 'CANARY-SECRET-123'::int > 0\nGROUP BY e.k",
			want: "explain: SQLSTATE 22P02 invalid_text_representation at non_ascii_before_the_position.sql:6:37"},
		{name: "timeout", header: []string{"timeout: 1s"},
			sql:  "SELECT a.k, count(DISTINCT a.author_id) AS actors\nFROM events a, events b, events c, events d, events e, events f\nWHERE a.label_id = 1 AND b.label_id > 0 AND c.id > 0 AND d.id > 0 AND e.id > 0 AND f.id > 0\nGROUP BY a.k",
			want: "query ran over its timeout 1s (SQLSTATE 57014 query_canceled)"},
		{name: "wrong_password",
			sql: "SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k",
			url: func(dsn string) string {
				u, err := url.Parse(dsn)
				if err != nil {
					t.Fatal(err)
				}
				u.User = url.UserPassword("no_such_role", password)
				return u.String()
			},
			want: "source main: connect to %s: auth: SQLSTATE 28000 invalid_authorization_specification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.seedCanary()
			src := runner.Source{URL: e.sourceDSN, MaxCost: 1e18} // the timeout's cartesian join is dear
			want := c.want
			if c.url != nil {
				src.URL = c.url(e.sourceDSN)
				u, _ := url.Parse(src.URL)
				want = fmt.Sprintf(want, u.Host)
			}
			var log bytes.Buffer
			r := e.sealedRunner(runner.Config{Sources: map[string]runner.Source{"main": src}}, &log)
			qs := buildQueries(t, map[string]string{c.name: query(c.sql, c.header...)})
			res, err := r.Run(t.Context(), runner.Options{Queries: qs})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Queries[0]
			if got.Status != history.QueryFailed || got.Error != want {
				t.Errorf("query run %s %q, want failed %q", got.Status, got.Error, want)
			}
			runs, err := e.store.QueryRuns(t.Context(), res.RunID)
			if err != nil || len(runs) != 1 {
				t.Fatalf("history: %v %v", runs, err)
			}
			for where, text := range map[string]string{"the result": fmt.Sprint(res), "the log": log.String(),
				"the history": fmt.Sprintf("%+v", runs)} {
				for _, secret := range []string{canary, password, "invalid input syntax", "authentication failed"} {
					if strings.Contains(text, secret) {
						t.Errorf("%s shows %q:\n%s", where, secret, text)
					}
				}
			}
			if want := redact.String(want); runs[0].Error != want { // the history hides IP addresses
				t.Errorf("history: %q, want %q", runs[0].Error, want)
			}
			if !strings.Contains(log.String(), want) {
				t.Errorf("the log does not say %q:\n%s", want, log.String())
			}
		})
	}
}

// TestCondition: SQLSTATEs are named as PostgreSQL's errcodes.txt names
// them, an unknown code by its class.
func TestCondition(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"22P02": "invalid_text_representation", "53400": "configuration_limit_exceeded",
		"57014": "query_canceled", "28P01": "invalid_password", "22ZZZ": "data_exception", "25P04": "transaction_timeout",
		"XYZ": ""} {
		if got := runner.Condition(code); got != want {
			t.Errorf("Condition(%s) = %q, want %q", code, got, want)
		}
	}
}

// TestSuppressedCountsAreDecades: a query whose number of suppressed
// groups is a secret N (N groups of one person each, all below
// min_group_size) publishes N only as its decade. Two sources that differ
// only in N within a decade publish the same numbers in the result, the
// history, the log and plan; the exact N appears in none of them.
func TestSuppressedCountsAreDecades(t *testing.T) {
	t.Parallel()
	type published struct {
		loaded            int64
		run, stored, plan string
		histogram         string
	}
	publish := func(t *testing.T, secret int) published {
		e := newEnv(t)
		e.exec(`CREATE TABLE labels (id int PRIMARY KEY, title text NOT NULL)`)
		e.exec(`CREATE TABLE events (id bigserial PRIMARY KEY, author_id int NOT NULL, label_id int NOT NULL, k int NOT NULL)`)
		// Group 0: 15 people, kept. Groups 1..secret: one person each.
		e.exec(`INSERT INTO events (author_id, label_id, k) SELECT 1000 + a, 1, 0 FROM generate_series(1, 15) a`)
		e.exec(`INSERT INTO events (author_id, label_id, k) SELECT k, 1, k FROM generate_series(1, $1::int) k`, secret)
		var log bytes.Buffer
		r := e.sealedRunner(runner.Config{}, &log)
		qs := buildQueries(t, map[string]string{"secret": query("SELECT e.k, count(DISTINCT e.author_id) AS actors FROM events e GROUP BY e.k")})
		res, err := r.Run(t.Context(), runner.Options{Queries: qs})
		if err != nil {
			t.Fatal(err)
		}
		qr := res.Queries[0]
		if qr.Status != history.QuerySucceeded {
			t.Fatalf("%s: %s", qr.Status, qr.Error)
		}
		stored, err := e.store.QueryRuns(t.Context(), res.RunID)
		if err != nil || len(stored) != 1 {
			t.Fatalf("history: %v %v", stored, err)
		}
		g, err := guard.New(guard.Config{Schema: sealedSchema()})
		if err != nil {
			t.Fatal(err)
		}
		p, err := runner.PlanQuery(t.Context(), runner.Source{Name: "main", URL: e.sourceDSN}, g, qs[0])
		if err != nil {
			t.Fatal(err)
		}
		for where, text := range map[string]string{"the log": log.String(), "the result": fmt.Sprintf("%+v", res.Queries),
			"the history": fmt.Sprintf("%+v", stored), "the plan": fmt.Sprintf("%+v", *p)} {
			for _, exact := range []string{fmt.Sprintf(`"suppressed":%d`, secret), fmt.Sprintf("Suppressed:%d", secret),
				fmt.Sprintf("Groups:%d", secret), fmt.Sprintf("Groups:%d", secret+1)} {
				if strings.Contains(text, exact) {
					t.Errorf("%s publishes the secret %d (%s):\n%s", where, secret, exact, text)
				}
			}
		}
		if !strings.Contains(log.String(), `"suppressed":"10-99"`) {
			t.Errorf("the log does not say suppressed 10-99:\n%s", log.String())
		}
		return published{loaded: qr.RowsLoaded, run: qr.RowsSuppressed.String(), stored: stored[0].RowsSuppressed.String(),
			plan: p.Suppressed.String(), histogram: fmt.Sprint(p.Kept, p.Histogram)}
	}
	var got [2]published
	for i, secret := range []int{12, 87} {
		t.Run(fmt.Sprint("secret_", secret), func(t *testing.T) { got[i] = publish(t, secret) })
	}
	want := published{loaded: 1, run: "10-99", stored: "10-99", plan: "10-99", histogram: got[0].histogram}
	for i, secret := range []int{12, 87} {
		if got[i] != want {
			t.Errorf("secret %d publishes %+v, want %+v (the same for every secret of the decade)", secret, got[i], want)
		}
	}
}
