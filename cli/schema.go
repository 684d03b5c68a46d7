package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/snapshot"
	"gitlab.com/metricgate/metricgate/schema"
)

const (
	schemaArgs    = "draft --source URL [--config FILE] [TABLE...]"
	schemaSummary = "draft schema.yml entries for the tables and columns of a source the catalog lacks"
)

// cmdSchema is "metricgate schema draft": it reads the source's
// information_schema and prints catalog entries, with conservative classes,
// for the tables the catalog (guard.schema) does not list and the columns
// of catalogued tables it lacks. Every class is a guess a security owner
// must review before the entry goes into schema.yml.
func cmdSchema(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "draft" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(e.stderr, "Usage: metricgate schema %s\n\n%s.\n\nRun 'metricgate schema draft -h' for its flags.\n", schemaArgs, capitalize(schemaSummary))
			return ExitOK
		}
		return e.fail(ExitUsage, "schema", "the subcommand is draft: metricgate schema %s", schemaArgs)
	}
	fl := newFlags(e, "schema draft", "--source URL [--config FILE] [TABLE...]",
		schemaSummary+" (all tables, or the named ones); every class is a conservative guess for a security owner to review")
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	source := fl.String("source", "", "read information_schema of the database at `URL` (required)")
	tables, code, done := parseInterleaved(fl, args[1:])
	if done {
		return code
	}
	if *source == "" {
		return e.fail(ExitUsage, "schema draft", "--source URL is required")
	}
	cfg, err := loadConfigOffline(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "schema draft", "%v", err)
	}
	path := cmp.Or(cfg.Guard.Schema, schema.DefaultFile)
	cat, err := loadSchemaCatalog(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(e.stderr, "metricgate schema draft: no catalog at %s: drafting every table\n", path)
	case err != nil:
		return e.fail(ExitProblems, "schema draft", "%v", err)
	}
	red, err := newRedColumns(cfg.Guard.RedColumns)
	if err != nil {
		return e.fail(ExitUsage, "schema draft", "%v", err)
	}
	src, err := readSourceSchema(ctx, *source)
	if err != nil {
		return e.fail(ExitProblems, "schema draft", "%v", err)
	}
	d, err := draftSchema(cat, src, tables, red)
	if err != nil {
		return e.fail(ExitProblems, "schema draft", "%v", err)
	}
	fmt.Fprint(e.stdout, d.text)
	fmt.Fprintf(e.stderr, "metricgate schema draft: %d new %s, %d new %s of catalogued tables. Every class is a conservative guess: "+
		"a security owner must review each one (and each entity) before it goes into %s; bump its version.\n",
		d.tables, plural(d.tables, "table", "tables"), d.columns, plural(d.columns, "column", "columns"), path)
	return ExitOK
}

// loadSchemaCatalog loads the catalog file at path (guard.schema).
func loadSchemaCatalog(path string) (*schema.Catalog, error) {
	c, err := schema.Load(os.DirFS(filepath.Dir(path)), filepath.Base(path))
	if err != nil {
		return nil, err
	}
	c.File = path
	return c, nil
}

// sourceSchema is what a draft reads of a source: the columns of the
// tables of its current schema, and their primary keys.
type sourceSchema struct {
	columns []schema.SourceColumn
	pkey    map[string]map[string]bool // table → primary-key columns
}

// readSourceSchema connects to the database at url and reads
// information_schema.columns and the primary keys of its current schema.
func readSourceSchema(ctx context.Context, url string) (*sourceSchema, error) {
	conn, err := snapshot.Connect(ctx, url, "metricgate schema", nil)
	if err != nil {
		return nil, endpoint("source", "--source", url, err)
	}
	defer snapshot.CloseConn(ctx, conn)
	rows, err := conn.Query(ctx, `SELECT table_name::text, column_name::text, data_type::text
		FROM information_schema.columns WHERE table_schema = current_schema()
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("read information_schema.columns: %w", err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schema.SourceColumn, error) {
		var c schema.SourceColumn
		err := r.Scan(&c.Table, &c.Column, &c.DataType)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.columns: %w", err)
	}
	rows, err = conn.Query(ctx, `SELECT k.table_name::text, k.column_name::text
		FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k
		  ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name
		WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("read the primary keys: %w", err)
	}
	s := &sourceSchema{columns: cols, pkey: map[string]map[string]bool{}}
	var table, column string
	_, err = pgx.ForEachRow(rows, []any{&table, &column}, func() error {
		if s.pkey[table] == nil {
			s.pkey[table] = map[string]bool{}
		}
		s.pkey[table][column] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the primary keys: %w", err)
	}
	return s, nil
}

// redColumns decides which column names a draft classes red: the guard's
// default patterns, the configured ones (guard.red_columns), and names the
// patterns miss.
type redColumns []*guard.Guard

func newRedColumns(configured []string) (redColumns, error) {
	def, err := guard.New(guard.Config{})
	if err != nil {
		return nil, err
	}
	r := redColumns{def}
	if configured != nil {
		g, err := guard.New(guard.Config{RedColumns: configured})
		if err != nil {
			return nil, err
		}
		r = append(r, g)
	}
	return r, nil
}

// redNames are red column names no red-column pattern matches: personal
// names, URLs that can carry credentials, CI variables, a requester's
// e-mail address.
var redNames = regexp.MustCompile(`^(name|username|first_name|last_name|import_url|yaml_variables|service_desk_reply_to|.*_url)$`)

func (r redColumns) is(table, column string) bool {
	if redNames.MatchString(column) {
		return true
	}
	for _, g := range r {
		if g.IsRed(table, column) {
			return true
		}
	}
	return false
}

// enumInt are integer columns that hold a small enum, not a quantity.
var enumInt = regexp.MustCompile(`(^|_)(level|type|state|status|source|action|tier|role)$`)

// draftClass is the conservative class of a source column: red for
// personal and secret names, text for strings and anything unknown, key for
// ids, time for dates, category for flags and small enums, measure for
// other numbers.
func draftClass(table, column, dataType string, pkey bool, red redColumns) schema.Class {
	if red.is(table, column) {
		return schema.Red
	}
	switch dt := strings.ToLower(dataType); {
	case dt == "inet" || dt == "cidr":
		return schema.Red
	case dt == "smallint" || dt == "integer" || dt == "bigint":
		switch {
		case column == "id" || strings.HasSuffix(column, "_id") || pkey:
			return schema.Key
		case dt == "smallint" || enumInt.MatchString(column):
			return schema.Category
		}
		return schema.Measure
	case dt == "numeric" || dt == "real" || dt == "double precision" || dt == "interval":
		return schema.Measure
	case dt == "boolean":
		return schema.Category
	case dt == "date" || strings.HasPrefix(dt, "timestamp") || strings.HasPrefix(dt, "time "):
		return schema.Time
	}
	return schema.Text // character varying, text, json, arrays, bytea, …
}

// draft is a drafted set of catalog entries.
type draft struct {
	text            string
	tables, columns int
}

// draftSchema drafts entries for the source tables cat does not list and
// blocks of the columns it lacks for those it does; only the named tables
// when only is not empty. cat may be nil (no catalog yet).
func draftSchema(cat *schema.Catalog, src *sourceSchema, only []string, red redColumns) (*draft, error) {
	byTable := map[string][]schema.SourceColumn{}
	for _, c := range src.columns {
		byTable[c.Table] = append(byTable[c.Table], c)
	}
	names := slices.Sorted(maps.Keys(byTable))
	if len(only) > 0 {
		var missing []string
		for _, t := range only {
			if byTable[t] == nil {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("the source has no table %s", strings.Join(missing, ", "))
		}
		names = slices.Compact(slices.Sorted(slices.Values(only)))
	}
	var fresh, extra strings.Builder
	d := &draft{}
	for _, name := range names {
		have := cat.Table(name)
		t := &schema.Table{Name: name, Columns: map[string]schema.Class{}}
		for _, c := range byTable[name] {
			if have != nil {
				if _, ok := have.Column(c.Column); ok {
					continue
				}
			}
			t.Columns[c.Column] = draftClass(name, c.Column, c.DataType, src.pkey[name][c.Column], red)
			t.Order = append(t.Order, c.Column)
		}
		if len(t.Order) == 0 {
			continue
		}
		if have != nil {
			d.columns += len(t.Order)
			fmt.Fprintf(&extra, "\n  # %s is catalogued: merge these columns into its entry.\n  %s:\n    columns:\n", name, name)
			for _, c := range t.Order {
				fmt.Fprintf(&extra, "      %s: %s\n", c, t.Columns[c])
			}
			continue
		}
		d.tables++
		t.Entity = []string{}
		switch {
		case name == "users" && t.Columns["id"] == schema.Key:
			t.Entity = []string{"id"}
		case t.Columns["author_id"] == schema.Key:
			t.Entity = []string{"author_id"}
		case t.Columns["user_id"] == schema.Key:
			t.Entity = []string{"user_id"}
		}
		fmt.Fprintf(&fresh, "\n  # Drafted: review every class and the entity (the people behind a row; [] for none).\n%s", schema.Entry(t))
	}
	if d.tables+d.columns == 0 {
		d.text = "# The catalog lists every column of these tables of the source.\n"
		return d, nil
	}
	d.text = "# Drafted by metricgate schema draft: conservative classes, for a security owner to review\n" +
		"# before they go under tables: in schema.yml.\n" + fresh.String() + extra.String()
	return d, nil
}

// validateSchema reports, with a source URL, the drift between the schema
// catalog (guard.schema) and the source's information_schema as located
// problems of the catalog file, and the catalog's own problems. Without a
// source, or without a catalog file, it checks nothing.
func validateSchema(ctx context.Context, cfg *Config, source string, rep *validation) (int, error) {
	path := cmp.Or(cfg.Guard.Schema, schema.DefaultFile)
	if source == "" {
		return 0, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	rep.SchemaPath = path
	cat, err := loadSchemaCatalog(path)
	var ps schema.Problems
	switch {
	case errors.As(err, &ps):
	case err != nil:
		return ExitProblems, err
	default:
		src, err := readSourceSchema(ctx, source)
		if err != nil {
			return ExitProblems, fmt.Errorf("check %s against the source: %w", path, err)
		}
		for _, p := range cat.DriftProblems(src.columns) {
			rep.Drift = append(rep.Drift, catalog.Problem{Path: path, Line: p.Line, Col: p.Col, Rule: "schema/drift", Message: p.Message})
		}
	}
	for _, p := range ps {
		rep.Problems = append(rep.Problems, catalog.Problem{Path: path, Line: p.Line, Col: p.Col, Rule: "schema", Message: p.Message})
	}
	return 0, nil
}
