package dump

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/snapshot"
)

// SourceColumn is a column of a source table as information_schema
// describes it.
type SourceColumn struct {
	Name string
	// UDT is the type's name (pg_type.typname): int4, timestamptz,
	// _int4 for int4[], numeric, jsonb, ….
	UDT string
	// SQL is the type as information_schema.columns.data_type spells it
	// ("timestamp with time zone", "ARRAY", "character varying").
	SQL string
	// Precision and Scale are a numeric's declared digits (0 when
	// unconstrained).
	Precision, Scale int
}

// Typmod is the PostgreSQL type modifier of a numeric(p,s), -1 otherwise.
func (c SourceColumn) Typmod() int32 {
	if c.UDT != "numeric" || c.Precision == 0 {
		return -1
	}
	return int32(c.Precision<<16|c.Scale) + 4
}

// DriftError lists every table and column dump.yml (or the scope rules)
// needs that the source does not have: upstream schema drift.
type DriftError struct {
	// Path is dump.yml's name.
	Path string
	// Missing are the missing tables (Column "") and columns, by table.
	Missing []Drift
}

// Drift is one missing table (Column "") or column.
type Drift struct{ Table, Column string }

func (d Drift) String() string {
	if d.Column == "" {
		return "table " + d.Table
	}
	return "column " + d.Table + "." + d.Column
}

func (e *DriftError) Error() string {
	s := make([]string, len(e.Missing))
	for i, d := range e.Missing {
		s[i] = d.String()
	}
	return fmt.Sprintf("%s does not match the source schema (%d missing): %s", e.Path, len(e.Missing), strings.Join(s, ", "))
}

// querier is what the drift check needs: a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// CheckURL connects to the source at url and runs CheckSource, for
// `metricgate validate --source`.
func CheckURL(ctx context.Context, url string, def *Definition) error {
	conn, err := snapshot.Connect(ctx, url, "metricgate validate", nil)
	if err != nil {
		return err
	}
	defer snapshot.CloseConn(ctx, conn)
	_, err = CheckSource(ctx, conn, def)
	return err
}

// CheckSource compares every table and column of def, and every column
// the scope rules read, with the source's information_schema, and returns
// the columns of def's tables by table. Every missing table or column is
// reported at once in a *DriftError.
func CheckSource(ctx context.Context, q querier, def *Definition) (map[string]map[string]SourceColumn, error) {
	return CheckSourceRole(ctx, q, def, "")
}

// CheckSourceRole is CheckSource on the database of one role: its tables,
// and, for MainRole, every table the scope rules read (see the package
// documentation, # Across databases). Role "" checks everything in one
// database.
func CheckSourceRole(ctx context.Context, q querier, def *Definition, role string) (map[string]map[string]SourceColumn, error) {
	need := scopeColumns(def, role)
	for _, t := range def.Tables {
		if role != "" && t.Source != role {
			continue
		}
		for _, c := range t.Columns {
			if !slices.Contains(need[t.Name], c) {
				need[t.Name] = append(need[t.Name], c)
			}
		}
	}
	tables := slices.Sorted(maps.Keys(need))
	rows, err := q.Query(ctx, `SELECT table_name::text, column_name::text, udt_name::text, data_type::text,
		coalesce(numeric_precision, 0)::int, coalesce(numeric_scale, 0)::int
		FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = ANY ($2)`, def.Schema, tables)
	if err != nil {
		return nil, fmt.Errorf("read information_schema.columns: %w", err)
	}
	have := map[string]map[string]SourceColumn{}
	for rows.Next() {
		var table string
		var c SourceColumn
		if err := rows.Scan(&table, &c.Name, &c.UDT, &c.SQL, &c.Precision, &c.Scale); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read information_schema.columns: %w", err)
		}
		if c.UDT != "numeric" {
			c.Precision, c.Scale = 0, 0
		}
		if have[table] == nil {
			have[table] = map[string]SourceColumn{}
		}
		have[table][c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read information_schema.columns: %w", err)
	}
	var missing []Drift
	for _, table := range tables {
		if have[table] == nil {
			missing = append(missing, Drift{Table: table})
			continue
		}
		for _, c := range need[table] {
			if _, ok := have[table][c]; !ok {
				missing = append(missing, Drift{Table: table, Column: c})
			}
		}
	}
	if len(missing) > 0 {
		return nil, &DriftError{Path: def.Path, Missing: missing}
	}
	return have, nil
}
