package cli

import (
	"cmp"
	"fmt"
	"os"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/schema"
)

// loadSchema reads the reviewed schema catalog named by guard.schema
// (default schema.yml, relative to the working directory).
func loadSchema(cfg *Config) (*schema.Catalog, error) {
	path := cmp.Or(cfg.Guard.Schema, schema.DefaultFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guard.schema: read the schema catalog: %w (run metricgate from the repository root, or set guard.schema)", err)
	}
	return schema.Parse(path, data)
}

// newGuard builds the guard of the configuration: its schema catalog and
// red-column patterns.
func newGuard(cfg *Config) (*guard.Guard, error) {
	cat, err := loadSchema(cfg)
	if err != nil {
		return nil, err
	}
	return guard.New(guard.Config{Schema: cat, RedColumns: cfg.Guard.RedColumns})
}
