package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// A load that takes long says so while it runs, then says it is in.
func TestLoadSaysItIsStillLoading(t *testing.T) {
	t.Parallel()
	out := &lineWriter{lines: make(chan string, 10)}
	p := &loadProgress{w: out, tick: 20 * time.Millisecond}
	tables := []warehouse.DumpTable{{Name: "notes", Rows: 10, Files: []*warehouse.DumpFile{{Name: "a", Bytes: 2e6, Rows: 10}}}}
	entry := warehouse.LedgerEntry{Location: "dumps/2026-12-01/1/"}
	var seen []string
	err := p.around(entry, "full dump", "gitlab_public", tables, func() error {
		for line := range out.lines {
			seen = append(seen, line)
			if strings.HasPrefix(line, "load: still loading") {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for line := range out.lines { // a tick may have come before the load's end
		if !strings.HasPrefix(line, "load: still loading") {
			seen = append(seen, line)
			break
		}
	}
	want := []string{
		`^load: loading full dump dumps/2026-12-01/1/: 1 tables, 10 rows, 1 files \(2\.0 MB compressed\) into schema gitlab_public$`,
		`^load: still loading dumps/2026-12-01/1/ \(\S+ so far; the tables appear together when it is done\)$`,
		`^load: dumps/2026-12-01/1/ is in \(\S+\)$`,
	}
	if len(seen) != len(want) {
		t.Fatalf("lines %q", seen)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(seen[i]) {
			t.Errorf("line %d %q, want %s", i, seen[i], re)
		}
	}
}
