package cli

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gitlab.com/metricgate/metricgate/schema"
)

// shippedSchema is the repository's schema.yml, read once.
var shippedSchema = sync.OnceValue(func() *schema.Catalog {
	cat, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		panic(err)
	}
	return cat
})

// syntheticSchema is the absolute path of the schema catalog of the
// synthetic tables (events, big) that the run, fault and serve tests
// create: for their configurations' guard.schema.
func syntheticSchema(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "synthetic_schema.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
