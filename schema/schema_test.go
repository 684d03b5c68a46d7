package schema_test

import (
	"os"
	"testing"

	"gitlab.com/metricgate/metricgate/schema"
)

// TestShippedCatalogParses loads the repository's schema.yml.
func TestShippedCatalogParses(t *testing.T) {
	t.Parallel()
	c, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == "" || len(c.Tables()) == 0 {
		t.Fatalf("version %q, %d tables", c.Version, len(c.Tables()))
	}
}
