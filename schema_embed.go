// Package metricgate holds what the repository root ships inside the
// binary: the reviewed schema catalog, schema.yml. The binary uses it when
// guard.schema is not set and the working directory has no schema.yml
// (metricgate demo, validate outside a checkout).
package metricgate

import _ "embed" // for SchemaYAML

// SchemaYAML is the repository's schema.yml as it was when the binary was
// built.
//
//go:embed schema.yml
var SchemaYAML []byte
