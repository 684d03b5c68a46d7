package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"gitlab.com/metricgate/metricgate"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/schema"
)

// loadSchema reads the reviewed schema catalog named by guard.schema. When
// it is not set: schema.yml in the working directory (a checkout of the
// reviewed repository), else the catalog built into the binary.
func loadSchema(cfg *Config) (*schema.Catalog, error) {
	path := cfg.Guard.Schema
	if path == "" {
		if _, err := os.Stat(schema.DefaultFile); errors.Is(err, fs.ErrNotExist) {
			return schema.Parse(schema.DefaultFile+" (built into metricgate)", metricgate.SchemaYAML)
		}
		path = schema.DefaultFile
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guard.schema: read the schema catalog: %w", err)
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
