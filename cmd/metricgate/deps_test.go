package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode lists the packages the binary links (go list
// -deps) and fails when one of this module's imports testing or is test
// scaffolding (pgtest, warehousetest, gitlabtest): test hooks do not
// ship. (github.com/apache/thrift, linked through gosnowflake's Arrow
// support, imports testing itself; that is not this module's.)
func TestBinaryLinksNoTestCode(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "gitlab.com/metricgate/metricgate"
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), "|")
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, scaffold := range []string{"/internal/pgtest", "/warehouse/warehousetest", "/review/gitlabtest"} {
			if pkg == module+scaffold {
				t.Errorf("the binary links %s, test scaffolding", pkg)
			}
		}
		for imp := range strings.FieldsSeq(imports) {
			if imp == "testing" {
				t.Errorf("%s, linked into the binary, imports testing", pkg)
			}
		}
	}
}
