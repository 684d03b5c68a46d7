package dump_test

import (
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/dump"
)

// TestDumpRefusesAStaleSource: a source whose data (its as_of) is older
// than max_age is refused before anything is written, as a run refuses
// it, so that a dump of an old backup never passes for fresh data; within
// max_age it dumps.
func TestDumpRefusesAStaleSource(t *testing.T) {
	t.Parallel()
	dsn := source(t, 1)
	def := repoDefinition(t)
	for _, tc := range []struct {
		asOf  string
		stale bool
	}{{"now() - interval '30 hours'", true}, {"now() - interval '1 hour'", false}} {
		dir := t.TempDir()
		b := fileBucket(t, dir)
		var log syncBuffer
		e := exporter(t, dsn, b, nil, &log, dump.Config{AsOf: tc.asOf, MaxAge: 26 * time.Hour, SourceName: "main_eu"})
		_, err := e.Dump(t.Context(), def)
		switch {
		case tc.stale && (err == nil || !strings.Contains(err.Error(), "source main_eu is 30h0m0s old") || !strings.Contains(err.Error(), "max_age is 26h0m0s")):
			t.Errorf("as of %s: %v; want the stale source refused by name", tc.asOf, err)
		case !tc.stale && err != nil:
			t.Errorf("as of %s: %v", tc.asOf, err)
		}
		it := b.List(nil)
		obj, _ := it.Next(t.Context())
		if tc.stale && obj != nil {
			t.Errorf("a refused dump wrote %s", obj.Key)
		}
	}
}
