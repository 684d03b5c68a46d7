package guard

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

// aggregateTypes are the PostgreSQL types (pg_type.typname) an aggregate
// output column may have: numbers, booleans, dates and times, intervals.
// max(title) is one issue's title, not an aggregate.
var aggregateTypes = set(
	"int2", "int4", "int8", "numeric", "float4", "float8", "oid",
	"bool",
	"date", "time", "timetz", "timestamp", "timestamptz", "interval",
)

// AllowedAggregateType reports whether typname (pg_type.typname, as in a
// result's field descriptions) may be the type of an aggregate column.
func AllowedAggregateType(typname string) bool {
	return aggregateTypes[strings.ToLower(typname)]
}

// CheckResultTypes applies the runtime type rule: every output column the
// static analysis classified as Aggregate must have an allowed type.
// typnames are the result's column types, in order. The error names every
// offending column.
func CheckResultTypes(an *Analysis, typnames []string) error {
	if len(typnames) != len(an.Columns) {
		return fmt.Errorf("result has %d columns, the query text %d", len(typnames), len(an.Columns))
	}
	var bad []string
	for i, c := range an.Columns {
		if c.Kind == Aggregate && !AllowedAggregateType(typnames[i]) {
			bad = append(bad, fmt.Sprintf("%q is %s", c.Name, typnames[i]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("aggregate columns must be numeric, boolean, date/time or interval (a %s of text is one row's value): %s",
			"min/max", strings.Join(bad, ", "))
	}
	return nil
}

func wholeNumber(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int64(x), nil
	case *big.Int:
		if !x.IsInt64() {
			return 0, fmt.Errorf("%v is out of range", x)
		}
		return x.Int64(), nil
	case nil:
		return 0, fmt.Errorf("NULL")
	}
	return 0, fmt.Errorf("unexpected %T", v)
}

// EntityFilter is the runtime entity filter: it reads the hidden columns
// the rewrite appends to every row (Analysis.SQL) and keeps a row only when
// at least Min distinct people stand behind it. It is applied to every row
// before the row is written anywhere.
type EntityFilter struct {
	// Min is the query's min_group_size.
	Min int64
	// Kept and Dropped count the rows seen so far.
	Kept, Dropped int64
	// Cells counts the aggregate cells of kept rows that were set to NULL
	// because fewer than Min people stood behind them.
	Cells int64
	// Entities is the number of people behind the last row seen.
	Entities int64
}

// Keep reports whether a row may be written, from its hidden values
// (__mg_entities, __mg_cells). A value that is not a whole number is an
// error.
func (f *EntityFilter) Keep(hidden []any) (bool, error) {
	if len(hidden) != HiddenColumns {
		return false, fmt.Errorf("entity filter: %d hidden values, want %d", len(hidden), HiddenColumns)
	}
	n, err := wholeNumber(hidden[0])
	if err != nil {
		return false, fmt.Errorf("entity count: %w", err)
	}
	cells, err := wholeNumber(hidden[1])
	if err != nil {
		return false, fmt.Errorf("suppressed cells: %w", err)
	}
	f.Entities = n
	if n < f.Min {
		f.Dropped++
		return false, nil
	}
	f.Kept++
	f.Cells += cells
	return true, nil
}
