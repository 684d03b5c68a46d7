package guard

import (
	"os"
	"sync"
	"testing"

	"gitlab.com/metricgate/metricgate/schema"
)

var (
	catalogOnce sync.Once
	shipped     *schema.Catalog
	catalogErr  error
)

// shippedCatalog is the repository's schema.yml.
func shippedCatalog(tb testing.TB) *schema.Catalog {
	tb.Helper()
	catalogOnce.Do(func() { shipped, catalogErr = schema.Load(os.DirFS(".."), schema.DefaultFile) })
	if catalogErr != nil {
		tb.Fatal(catalogErr)
	}
	return shipped
}

// testGuard is a Guard on the shipped schema catalog.
func testGuard(tb testing.TB, red ...string) *Guard {
	tb.Helper()
	cfg := Config{Schema: shippedCatalog(tb)}
	if red != nil {
		cfg.RedColumns = red
	}
	g, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
