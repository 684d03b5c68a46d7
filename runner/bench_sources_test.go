package runner_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/internal/pgtest"
	"gitlab.com/metricgate/metricgate/runner"
)

// sourceLatency is the delay the proxy of BenchmarkSources adds to every
// answer of a source: a source in another region, or another cell.
const sourceLatency = 15 * time.Millisecond

// latencyProxy forwards TCP connections to target, delaying every chunk
// the server sends by sourceLatency. It stands for the network between
// metricgate and a source on a machine of its own, so that four sources on
// this machine's one PostgreSQL cluster behave like four machines: the
// queries are light and the time is the waiting.
func latencyProxy(b *testing.B, target string) string {
	b.Helper()
	ln, err := (&net.ListenConfig{}).Listen(b.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := (&net.Dialer{}).DialContext(b.Context(), "tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			go func() {
				_, _ = io.Copy(server, client)
				_ = server.Close()
			}()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if n > 0 {
						time.Sleep(sourceLatency)
						if _, werr := client.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				_ = client.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkSources makes the same run — 6 light queries per source — on
// one source with a budget of 2 workers, and on 4 sources with a budget of
// 8 (2 per source), each source behind a proxy adding 15 ms to every
// answer (latencyProxy), and on the 4 sources with a budget of 2, which
// is about what running them one after another costs. It reports:
//
//   - one-source-s, four-sources-s: the runs' wall times;
//   - four-vs-one: their ratio; the target is ≤ 1.3 (the sources run side
//     by side, where one after another takes about 4);
//   - four-in-turn-vs-one: the 4-source run with 2 workers over the
//     1-source run.
func BenchmarkSources(b *testing.B) {
	ctx := b.Context()
	var dsns []string
	for i := range 4 {
		dsn := pgtest.New(b)
		conn := pgtest.Connect(b, dsn)
		if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE events (k int NOT NULL, actor int NOT NULL);
			INSERT INTO events SELECT a %% 5, a + %d FROM generate_series(1, 2000) a; ANALYZE events`, i*10000)); err != nil {
			b.Fatal(err)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			b.Fatal(err)
		}
		u.Host = latencyProxy(b, u.Host)
		dsns = append(dsns, u.String())
	}
	fsys := map[string]string{}
	for i := range 6 {
		fsys[fmt.Sprintf("q%d", i)] = query(fmt.Sprintf(`SELECT k, count(DISTINCT actor) AS actors, count(*) + %d AS n FROM events GROUP BY k`, i))
	}
	qs := benchCatalog(b, fsys)
	run := func(sources, workers int) time.Duration {
		srcs := map[string]runner.Source{}
		for i := range sources {
			name := "main"
			if i > 0 {
				name = fmt.Sprintf("main_%d", i)
			}
			srcs[name] = runner.Source{URL: dsns[i], Role: "main", Cell: fmt.Sprint(i)}
		}
		r := newBenchRunner(b, runner.Config{Sources: srcs, Workers: workers}, testSchema())
		start := time.Now()
		res, err := r.Run(ctx, runner.Options{Trigger: "bench", Queries: qs})
		d := time.Since(start)
		if err != nil || res.Status != history.RunSucceeded || len(res.Queries) != 6*sources {
			b.Fatalf("run on %d sources: %v %+v", sources, err, res)
		}
		return d
	}
	run(4, 8) // warm up
	var one, four, turns time.Duration
	for b.Loop() {
		one += run(1, 2)
		four += run(4, 8)
		turns += run(4, 2)
	}
	n := float64(b.N)
	b.ReportMetric(one.Seconds()/n, "one-source-s")
	b.ReportMetric(four.Seconds()/n, "four-sources-s")
	b.ReportMetric(float64(four)/float64(one), "four-vs-one")
	b.ReportMetric(float64(turns)/float64(one), "four-in-turn-vs-one")
	fmt.Printf("sources: 1 source %s, 4 sources %s (%.2fx, target <= 1.3), 4 sources with 2 workers %s (%.2fx)\n",
		(one / time.Duration(b.N)).Round(time.Millisecond), (four / time.Duration(b.N)).Round(time.Millisecond),
		float64(four)/float64(one), (turns / time.Duration(b.N)).Round(time.Millisecond), float64(turns)/float64(one))
}
