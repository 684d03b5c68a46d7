// Package queries holds metricgate's example queries: the reviewed SQL files
// under queries/<area>/<name>.sql, and README.md, the guide for the product
// managers who write them and the CODEOWNERS who review them.
//
// The SQL files are data, not Go. This package only embeds them, so that the
// demo and the tests can load the examples from the binary:
//
//	cat, err := catalog.Load(queries.FS, cfg)
//
// In production the runner reads the directory named by the operator's
// queries.dir instead (a checkout of the reviewed branch), so a query
// reaches production through its merge request, not through a rebuild.
package queries

import "embed"

// FS holds every *.sql file of this directory and its subdirectories, at
// their paths relative to it ("code_review/mr_time_to_merge.sql"), ready for
// catalog.Load. It holds nothing else: no README, no Go files.
//
//go:embed */*.sql
var FS embed.FS
