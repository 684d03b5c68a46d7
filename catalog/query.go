package catalog

import "time"

// LoadMode says how a query's result is written to its warehouse table.
type LoadMode string

// Load modes.
const (
	// LoadAppend keeps one slice of rows per snapshot date, a time series;
	// re-running a date replaces that date's slice. The default.
	LoadAppend LoadMode = "append"
	// LoadReplace keeps only the latest result, swapped in atomically.
	LoadReplace LoadMode = "replace"
)

// A Query is one query file: its header, parsed and with defaults filled
// in, and its whole text.
type Query struct {
	// Name is the file's stem ("mr_merge_time" for
	// "code_review/mr_merge_time.sql"), unique across the catalog.
	Name string
	// Path is the file's slash-separated path within the loaded fs.FS.
	Path string
	// Area is the directory holding the file ("code_review"), "" at the
	// root of the fs.FS.
	Area string
	// Text is the whole file exactly as read: header, free comments and
	// SQL, with CRLF line ends kept. Problem positions, BodyLine and the
	// guard's positions all refer to Text. A leading byte-order mark is a
	// problem, so Text of a valid query never has one.
	Text string
	// SHA256 is the hex SHA-256 of the file's bytes exactly as stored: what
	// the runner records and approval compares.
	SHA256 string

	// Description is the description header, as written.
	Description string
	// Owner is the owner header as written; Owners holds its @handles.
	Owner string
	// Owners are the GitLab @handles (users or groups) of Owner, in order,
	// each once, with the @.
	Owners []string
	// GroupSize is the output column that counts the entities behind each
	// row.
	GroupSize string
	// MinGroupSize is the smallest group_size value a row may have to
	// leave; smaller groups are dropped. Default and floor:
	// Config.MinGroupSize.
	MinGroupSize int
	// Entity is what each row is counted in: "person" (default) or
	// "namespace", which also counts the namespace of tables whose rows
	// belong to no person (projects and their settings).
	Entity string
	// Source is the name of the source database. Default
	// Config.DefaultSource ("main").
	Source string
	// Schedule selects the global runs the query takes part in. Default
	// daily.
	Schedule Schedule
	// Load is how results are written. Default LoadAppend.
	Load LoadMode
	// Target is the warehouse table. Default Name.
	Target string
	// Timeout is the query's statement_timeout. Default
	// Config.DefaultTimeout, at most Config.MaxTimeout.
	Timeout time.Duration
	// MaxCost is the largest EXPLAIN total cost the query may have; 0 means
	// no limit.
	MaxCost float64
	// MaxRows is the most rows the result may have; more fails the query.
	// Default Config.DefaultMaxRows.
	MaxRows int
	// Tags are the query's tags, in order, each once.
	Tags []string

	// BodyLine is the 1-based line of the SQL's first token, after the
	// header and any free comments.
	BodyLine int

	targetLine, targetCol int // where the target header's value is, if any
}
