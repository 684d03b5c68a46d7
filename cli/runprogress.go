package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/runner"
)

// longQuery is how long a query runs before run says it is still running,
// and then how often it says so again.
const longQuery = 30 * time.Second

// progress is the Recorder of metricgate run: it records in the history
// as the store does and, as each query run ends, says on w how it ended,
// so that a long run is not silent until its table; every `every` it
// names the queries that have been running longer than that. The runner
// records every query run it starts and finishes, so this hook sees them
// all without the runner knowing of terminals.
type progress struct {
	runner.Recorder
	w        io.Writer
	every    time.Duration
	timeouts map[string]time.Duration // by query name, for "still running" lines

	mu      sync.Mutex
	running map[int64]history.QueryRun // by query run id
	total   int                        // query runs to end, when known
	ended   int
	stop    chan struct{}
	done    chan struct{}
}

// newProgress wraps rec. total is how many query runs the run will make
// (0 when not known); every how often it names the long ones.
func newProgress(rec runner.Recorder, w io.Writer, every time.Duration, queries map[string]time.Duration, total int) *progress {
	p := &progress{Recorder: rec, w: w, every: every, timeouts: queries, total: total,
		running: map[int64]history.QueryRun{}, stop: make(chan struct{}), done: make(chan struct{})}
	go p.watch()
	return p
}

// expect sets how many query runs the run will make and the queries'
// timeouts, once they are known.
func (p *progress) expect(total int, timeouts map[string]time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.timeouts = total, timeouts
}

// close stops the watch of long queries.
func (p *progress) close() {
	close(p.stop)
	<-p.done
}

func (p *progress) StartQueryRun(ctx context.Context, q history.QueryRun) (int64, error) {
	id, err := p.Recorder.StartQueryRun(ctx, q)
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.Status == history.QueryRunning {
		q.ID = id
		p.running[id] = q
	} else {
		p.endedLocked(q) // skipped, refused or failed before it could start
	}
	return id, err
}

func (p *progress) FinishQueryRun(ctx context.Context, q history.QueryRun) error {
	err := p.Recorder.FinishQueryRun(ctx, q)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, q.ID)
	p.endedLocked(q)
	return err
}

// endedLocked says how q ended: "[2/5] actors (main) succeeded: 11 rows in 1.2s".
func (p *progress) endedLocked(q history.QueryRun) {
	p.ended++
	count := fmt.Sprintf("[%d]", p.ended)
	if p.total > 0 {
		count = fmt.Sprintf("[%d/%d]", p.ended, p.total)
	}
	what := oneLine(q.Error, 200)
	if q.Status == history.QuerySucceeded {
		what = fmt.Sprintf("%d rows", q.RowsLoaded)
		if s := q.RowsSuppressed.String(); s != "0" {
			what += fmt.Sprintf(" (%s rows below min_group_size dropped)", s)
		}
	}
	if q.Status != history.QuerySkipped && q.Duration > 0 { // a skipped query never ran
		what += " in " + formatDuration(q.Duration)
	}
	fmt.Fprintf(p.w, "metricgate run: %s %s (%s) %s: %s\n", count, q.Query, q.Source, q.Status, what)
}

// watch names, every p.every, the queries running longer than that.
func (p *progress) watch() {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			ids := slices.Sorted(maps.Keys(p.running))
			for _, id := range ids {
				q := p.running[id]
				if d := now.Sub(q.StartedAt); d >= p.every {
					limit := ""
					if to := p.timeouts[q.Query]; to > 0 {
						limit = fmt.Sprintf(" (timeout %s)", formatDuration(to))
					}
					fmt.Fprintf(p.w, "metricgate run: %s (%s) still running after %s%s\n", q.Query, q.Source,
						formatDuration(d.Round(time.Second)), limit)
				}
			}
			p.mu.Unlock()
		}
	}
}
