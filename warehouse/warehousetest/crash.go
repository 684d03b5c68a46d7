package warehousetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Environment of a crash child: set by ExerciseCrash on the test binary it
// re-executes, read by RunCrashChild.
const (
	envCrash    = "METRICGATE_WAREHOUSETEST_CRASH" // "<mode> <phase> <table>"
	envCrashDSN = "METRICGATE_WAREHOUSETEST_CRASH_DSN"
)

// Phases of a crash: where the child is when it is killed.
const (
	// phaseFlowing: the child has handed the writer crashFlowingAfter rows
	// and keeps handing it more, slowly; the writer is mid-stream.
	phaseFlowing = "flowing"
	// phaseCommit: the child has handed over every row (Next returned
	// false); the writer is finishing or committing the load.
	phaseCommit = "commit"
)

const (
	crashOldRows      = 100
	crashFlowingAfter = 5000
	crashCommitRows   = 50_000
	crashChildRun     = 100
)

// OpenFunc opens a writer on the warehouse dsn names; the crash test calls
// it in the test process and in the child it kills.
type OpenFunc func(ctx context.Context, dsn string) (Writer, error)

// RunCrashChild turns the test binary into a crash child when ExerciseCrash
// re-executed it, and returns at once otherwise. Call it first thing in
// the driver package's TestMain:
//
//	func TestMain(m *testing.M) {
//		warehousetest.RunCrashChild(open)
//		os.Exit(m.Run())
//	}
//
// A crash child opens the writer, starts a load and reports on stdout when
// it reaches the point where ExerciseCrash kills it; it never runs the
// package's tests and exits without returning.
func RunCrashChild(open OpenFunc) {
	spec := os.Getenv(envCrash)
	if spec == "" {
		return
	}
	os.Exit(crashChild(open, spec, os.Getenv(envCrashDSN)))
}

func crashChild(open OpenFunc, spec, dsn string) int {
	f := strings.Fields(spec)
	if len(f) != 3 {
		fmt.Printf("error: bad %s=%q\n", envCrash, spec)
		return 2
	}
	mode, phase, table := warehouse.Mode(f[0]), f[1], f[2]
	ctx := context.Background()
	w, err := open(ctx, dsn)
	if err != nil {
		fmt.Printf("error: open: %v\n", err)
		return 2
	}
	var rows warehouse.Rows
	switch phase {
	case phaseFlowing:
		rows = &signalRows{Rows: GenRows(kv(), math.MaxInt), at: crashFlowingAfter, msg: phaseFlowing, slow: true}
	case phaseCommit:
		rows = &signalRows{Rows: GenRows(kv(), crashCommitRows), at: crashCommitRows, msg: phaseCommit}
	default:
		fmt.Printf("error: unknown phase %q\n", phase)
		return 2
	}
	n, err := w.Write(ctx, crashLoad(table, mode, 0, crashChildRun), rows)
	fmt.Printf("done: wrote %d rows, error %v\n", n, err)
	if err := w.Close(); err != nil {
		fmt.Printf("error: close: %v\n", err)
	}
	return 0
}

// signalRows prints msg on stdout when the writer asks for row at+1 (at
// the end of the stream when at is its length), then, when slow, yields a
// row per millisecond.
type signalRows struct {
	warehouse.Rows
	at, i     int
	msg       string
	slow, did bool
}

func (s *signalRows) Next() bool {
	if s.i == s.at && !s.did {
		s.did = true
		fmt.Println(s.msg)
	}
	if s.did && s.slow {
		time.Sleep(time.Millisecond)
	}
	s.i++
	return s.Rows.Next()
}

func crashLoad(table string, mode warehouse.Mode, day int, run int64) warehouse.Load {
	return warehouse.Load{Table: table, Mode: mode, Columns: kv(), Provenance: Prov(Day(day), run)}
}

func genTable(load warehouse.Load, n int, prefix string) *warehouse.Table {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{prefix + GenValue(kv()[0].Type, i).(string), int64(i)}
	}
	return Expect(load, rows...)
}

// ExerciseCrash proves that a process killed (SIGKILL) in the middle of a
// load leaves the warehouse as it was, other sources' rows of the table
// included. For each mode (append, replace) and
// for a kill while rows are flowing and one while the load is committing,
// it loads a previous state through open(ctx, dsn), closes that writer,
// re-executes the test binary as a crash child (see RunCrashChild) that
// opens the same warehouse and starts a load of the same snapshot date,
// kills it with SIGKILL at that point (and, while committing, also 1, 5, 20, 50
// and 100 ms later, to land inside the commit), reopens the warehouse and checks
// that it holds exactly the previous state (or, killed while committing,
// exactly the previous or exactly the new state), and then that reloading
// that date leaves one copy of it.
//
// dsn must name one warehouse that survives the test process's writers
// (a DuckDB file, a PostgreSQL schema); the previous state is loaded into
// tables named crash_<mode>_<phase>, replaced if they exist. The writer is
// closed before the child starts, so single-process warehouses (DuckDB's
// file lock) work.
func ExerciseCrash(t *testing.T, open OpenFunc, dsn string) {
	t.Helper()
	for _, mode := range []warehouse.Mode{warehouse.Append, warehouse.Replace} {
		t.Run(string(mode)+"_killed_while_"+phaseFlowing, func(t *testing.T) {
			crashOnce(t, open, dsn, mode, phaseFlowing, 0)
		})
		for _, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s_killed_%v_after_last_row", mode, delay), func(t *testing.T) {
				crashOnce(t, open, dsn, mode, phaseCommit, delay)
			})
		}
	}
}

func crashOnce(t *testing.T, open OpenFunc, dsn string, mode warehouse.Mode, phase string, delay time.Duration) {
	ctx := t.Context()
	table := "crash_" + string(mode) + "_" + phase
	withWriter := func(fn func(w Writer)) {
		t.Helper()
		w, err := open(ctx, dsn)
		if err != nil {
			t.Fatalf("open %s: %v", dsn, err)
		}
		defer func() {
			if err := w.Close(); err != nil {
				t.Errorf("close writer: %v", err)
			}
		}()
		fn(w)
	}
	s := &suite{ctx: ctx}

	// The previous state: day 0 (the date the child reloads), another
	// source's rows of day 0 (which the child's load must never touch)
	// and, for append, day 1 (another slice that must not move).
	l0 := crashLoad(table, mode, 0, 1)
	old := genTable(l0, crashOldRows, "old-")
	leu := l0
	leu.Provenance = ProvFrom(Day(0), 4, "eu")
	other := Expect(leu, []any{"eu-1", int64(1)}, []any{"eu-2", int64(2)})
	withWriter(func(w Writer) {
		s.write(t, w, l0, project2(old)...)
		s.write(t, w, leu, project2(other)...)
		if mode == warehouse.Append {
			l1 := crashLoad(table, mode, 1, 2)
			day1 := Expect(l1, []any{"other-1", int64(1)}, []any{"other-2", int64(2)})
			s.write(t, w, l1, project2(day1)...)
			other = Widen(other, day1)
		}
		s.expectTable(t, w, table, Widen(old, other))
	})
	before := Widen(old, other)
	after := Widen(genTable(crashLoad(table, mode, 0, crashChildRun), crashCommitRows, ""), other)

	killed := killChild(t, mode, phase, table, dsn, delay)

	withWriter(func(w Writer) {
		got := s.read(t, w, table)
		dBefore := Diff(before, got)
		switch {
		case dBefore == "":
			t.Logf("after the crash (%s): the previous state, exactly", killed)
		case phase == phaseCommit && Diff(after, got) == "":
			t.Logf("after the crash (%s): the child's complete load, exactly", killed)
		default:
			t.Errorf("after the crash (%s) the table is neither the previous state nor the complete new one; against the previous state:\n%s", killed, dBefore)
		}

		// Reloading the date leaves exactly one copy of it.
		again := crashLoad(table, mode, 0, 3)
		want := Expect(again, []any{"again-0", int64(0)}, []any{"again-1", int64(1)}, []any{"again-2", int64(2)})
		s.write(t, w, again, project2(want)...)
		s.expectTable(t, w, table, Widen(want, other))
	})
}

func project2(t *warehouse.Table) [][]any {
	rows := make([][]any, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = r[:2]
	}
	return rows
}

// killChild runs the crash child, SIGKILLs it when it reports reaching
// phase, and describes how it ended.
func killChild(t *testing.T, mode warehouse.Mode, phase, table, dsn string, delay time.Duration) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envCrash+"="+fmt.Sprintf("%s %s %s", mode, phase, table),
		envCrashDSN+"="+dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("crash child: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crash child: %v", err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	reached := false
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait
			}
			out = append(out, l)
			if l == phase {
				reached = true
				break wait
			}
		case <-deadline.C:
			break wait
		}
	}
	if reached && delay > 0 {
		<-time.After(delay) // the moment to kill at, not a wait for something
	}
	_ = cmd.Process.Kill() // SIGKILL on Unix; fails only if it already exited
	for l := range lines {
		out = append(out, l)
	}
	werr := cmd.Wait()
	if !reached {
		t.Fatalf("crash child never reported %q (did TestMain call warehousetest.RunCrashChild?); exit %v; stdout:\n%s\nstderr:\n%s",
			phase, werr, strings.Join(out, "\n"), stderr.String())
	}
	exited := werr == nil
	if exited && phase == phaseFlowing {
		t.Fatalf("crash child finished its endless load instead of being killed: %s", strings.Join(out, "\n"))
	}
	if exited {
		return "child finished before the kill: " + strings.Join(out, "; ")
	}
	return fmt.Sprintf("child killed %v after reaching %q", delay, phase)
}
