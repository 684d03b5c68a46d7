package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		98334775 * time.Nanosecond:   "98ms",
		4 * time.Hour:                "4h",
		90 * time.Minute:             "1h30m",
		26*time.Hour + 5*time.Second: "26h0m5s",
		12345 * time.Millisecond:     "12.345s",
		2 * time.Minute:              "2m",
		350 * time.Microsecond:       "350µs",
		0:                            "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%d) = %q, want %q", d, got, want)
		}
	}
}

// The JSON log: durations as text, each key once (a logger's With
// attribute and the same key on the line are one), addresses redacted.
func TestLogLineShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h, err := newLogHandler(&buf, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h).With(slog.Int64("run_id", 7)).With(slog.String("source", "main"))
	log.Info("query succeeded", slog.String("query", "mr_merge_time"), slog.String("source", "main"),
		slog.Duration("duration", 98334775*time.Nanosecond), slog.Duration("every", 4*time.Hour),
		slog.String("error", "dial tcp 10.1.2.3:5432: connect: connection refused"))
	line := buf.String()
	if n := strings.Count(line, `"source"`); n != 1 {
		t.Errorf("source appears %d times: %s", n, line)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	if m["duration"] != "98ms" || m["every"] != "4h" {
		t.Errorf("duration %v, every %v: %s", m["duration"], m["every"], line)
	}
	if strings.Contains(line, "10.1.2.3") {
		t.Errorf("an address is logged: %s", line)
	}
	if _, err := newLogHandler(&buf, "yaml", slog.LevelInfo); err == nil {
		t.Error("an unknown log format is accepted")
	}
}

// One cause that stops every query (a checkout on the wrong branch) is one
// line and a count, not one line per query.
func TestLogFoldsRepeatedError(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := newLogger(&buf, slog.LevelInfo).With(slog.Int64("run_id", 3))
	cause := errors.New(`approval could not be checked: HEAD is on branch "feature", not on approval branch "main"`)
	for i := range 14 {
		log.Info("query skipped", slog.String("query", "q"+string(rune('a'+i))), slog.String("error", cause.Error()))
	}
	log.Info("run finished", slog.String("status", "succeeded"))
	log.Info("query skipped", slog.String("query", "qz"), slog.String("error", "another cause"))
	log.Info("query skipped", slog.String("query", "qy"), slog.String("error", "another cause"))
	flushLog(log)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (a line, its count, run finished, a line, its count):\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "query=qa") || !strings.Contains(lines[0], "HEAD is on branch") {
		t.Errorf("first line %s", lines[0])
	}
	if !strings.Contains(lines[1], "repeated=13") || !strings.Contains(lines[1], `queries="qb, qc,`) || !strings.Contains(lines[1], "run_id=3") {
		t.Errorf("count line %s", lines[1])
	}
	if !strings.Contains(lines[2], "run finished") || !strings.Contains(lines[4], "repeated=1") {
		t.Errorf("lines %s", buf.String())
	}
}
