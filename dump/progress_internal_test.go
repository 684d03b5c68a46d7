package dump

import (
	"slices"
	"sync/atomic"
	"testing"
)

// TestProgressNamesRunningTables: the progress a dump reports names the
// tables being exported at that moment, and only those.
func TestProgressNamesRunningTables(t *testing.T) {
	t.Parallel()
	newSink := func() *sink { return &sink{rowsSeen: new(atomic.Int64), bytesOut: new(atomic.Int64)} }
	jobs := []*tableJob{
		{table: &Table{Name: "notes"}, sink: newSink()},
		{table: &Table{Name: "issues"}, sink: newSink()},
		{table: &Table{Name: "projects"}, sink: newSink()},
	}
	jobs[0].running.Store(true)
	jobs[1].running.Store(true)
	jobs[1].sink.rowsSeen.Store(40)
	jobs[2].sink.rowsSeen.Store(2) // done: counted, not running
	var done atomic.Int64
	done.Store(1)
	var got []Progress
	e := &Exporter{progress: func(p Progress) { got = append(got, p) }}
	stop := e.reportProgress(jobs, &done)
	stop()
	if len(got) == 0 {
		t.Fatal("no progress reported on stop")
	}
	last := got[len(got)-1]
	if !slices.Equal(last.Running, []string{"issues", "notes"}) || last.Rows != 42 || last.TablesDone != 1 {
		t.Errorf("progress %+v, want issues and notes running, 42 rows, 1 table done", last)
	}
}
