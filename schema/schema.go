// Package schema is the reviewed schema catalog (schema.yml): every table a
// query may read, the class of each of its columns, and the columns that
// identify the person behind each row (the table's entity keys). The guard
// resolves every column reference against it and denies what it does not
// list; the runner counts the distinct entities behind every output row
// from its entity keys.
//
// The file is reviewed by the security owners (CODEOWNERS): a wrong class
// or a missing entity key weakens every query that reads the table.
//
//	version: 2026-12-07.1        # bump on every change; shown by the status page
//	tables:
//	  issues:
//	    entity: [author_id]      # the people behind each row; [] for none
//	    columns:
//	      id: key
//	      title: text
//	      author_id: key
//	      confidential: category
//	      created_at: time
//	      weight: measure
//
// The classes are:
//
//   - key: ids and foreign keys. Joined, compared, counted; never an output
//     or a group key.
//   - category: low-cardinality values (state_id, visibility_level, label
//     titles). May be a group key.
//   - measure: numbers, booleans, intervals. Aggregated; may be a group key.
//   - time: timestamps and dates. Aggregated, or a group key through
//     date_trunc, extract or a cast to date.
//   - text: free text and customer content (titles, descriptions, notes,
//     names of private projects). Never reaches an output or a group key;
//     in predicates only compared with a literal or joined by equality.
//   - red: personal data, credentials, secrets. As text, and never inside
//     an aggregate other than count.
package schema

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Class is the class of a column.
type Class string

// The column classes, from the least to the most restricted.
const (
	Measure  Class = "measure"
	Time     Class = "time"
	Category Class = "category"
	Key      Class = "key"
	Text     Class = "text"
	Red      Class = "red"
)

// Classes are every class, in the order of the package documentation.
var Classes = []Class{Key, Category, Measure, Time, Text, Red}

// Valid reports whether c is one of Classes.
func (c Class) Valid() bool { return slices.Contains(Classes, c) }

// Sensitive reports whether values of the class never reach an output or a
// group key (text and red).
func (c Class) Sensitive() bool { return c == Text || c == Red }

// DefaultFile is the catalog's path in the repository.
const DefaultFile = "schema.yml"

// Table is one catalogued table.
type Table struct {
	Name string
	// Entity are the columns that identify the person behind a row; empty
	// for a table whose rows belong to nobody (labels).
	Entity []string
	// Namespace is the column naming the namespace (a customer) a row
	// belongs to, for tables whose rows belong to no person: a query that
	// opts in (header entity: namespace) counts namespaces there.
	Namespace string
	// People are the other columns that identify a person (merged_by_id,
	// assignee_id, creator_id): ids of people who are not the row's
	// entity. Like entity keys, they may be joined and counted, never
	// compared with a literal.
	People []string
	// Owner, for a table whose rows belong to another table's rows
	// (merge_request_metrics to merge_requests), names the column that
	// points at the owning row (its id) and the owning table: the people
	// behind a row are the owner's entity.
	Owner *Owner
	// Columns map each catalogued column to its class.
	Columns map[string]Class
	// Order lists the columns as the file lists them.
	Order []string
	// Line and Col are where the table's name is in the file.
	Line, Col int
	// ColumnPos maps each catalogued column to where its name is in the
	// file, for messages.
	ColumnPos map[string]Pos
}

// Pos is a 1-based line and column in the catalog file.
type Pos struct{ Line, Col int }

// Owner is the table a row belongs to, through one of its columns.
type Owner struct {
	// Column is this table's column holding the owner's id.
	Column string `yaml:"column"`
	// Table is the owning table; its entity keys are the people behind
	// this table's rows.
	Table string `yaml:"table"`
}

// IsPerson reports whether the column identifies a person: an entity key
// or one of People.
func (t *Table) IsPerson(col string) bool {
	return slices.Contains(t.Entity, col) || slices.Contains(t.People, col)
}

// Column returns the class of a column and whether the table lists it.
func (t *Table) Column(name string) (Class, bool) {
	c, ok := t.Columns[name]
	return c, ok
}

// Catalog is a loaded schema catalog. It is read-only after Load and safe
// for concurrent use.
type Catalog struct {
	// Version is the reviewers' version string.
	Version string
	// File is the path the catalog was read from, for messages.
	File   string
	tables map[string]*Table
	// SHA256 is the hash of the file's bytes.
	SHA256 string
}

// Table returns the catalogued table, or nil.
func (c *Catalog) Table(name string) *Table {
	if c == nil {
		return nil
	}
	return c.tables[name]
}

// Tables returns the catalogued tables sorted by name.
func (c *Catalog) Tables() []*Table {
	out := make([]*Table, 0, len(c.tables))
	for _, t := range c.tables {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Table) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Problem is one thing wrong with the catalog file, located.
type Problem struct {
	File      string
	Line, Col int
	Message   string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Problems are every problem of one file.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Load reads the catalog at name in fsys.
func Load(fsys fs.FS, name string) (*Catalog, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("schema catalog: %w", err)
	}
	return Parse(name, data)
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Parse parses the catalog's bytes; file names it in problems. It reports
// every problem of the file at once (as Problems).
func Parse(file string, data []byte) (*Catalog, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: file, Line: 1, Col: 1, Message: "not YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	c := &Catalog{File: file, tables: map[string]*Table{}, SHA256: sha(data)}
	var ps Problems
	bad := func(n *yaml.Node, format string, args ...any) {
		ps = append(ps, Problem{File: file, Line: n.Line, Col: n.Column, Message: fmt.Sprintf(format, args...)})
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, Problems{{File: file, Line: 1, Col: 1, Message: "the catalog is a mapping with keys version and tables"}}
	}
	doc := root.Content[0]
	var tables *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "version":
			c.Version = v.Value
		case "tables":
			tables = v
		default:
			bad(k, "unknown key %q (the catalog has version and tables)", k.Value)
		}
	}
	if c.Version == "" {
		bad(doc, "version is missing: reviewers bump it on every change")
	}
	if tables == nil || tables.Kind != yaml.MappingNode {
		bad(doc, "tables is missing or not a mapping of table names")
		return nil, ps
	}
	for i := 0; i+1 < len(tables.Content); i += 2 {
		k, v := tables.Content[i], tables.Content[i+1]
		if !identRE.MatchString(k.Value) {
			bad(k, "table name %q: lower-case letters, digits and _ only", k.Value)
			continue
		}
		if _, dup := c.tables[k.Value]; dup {
			bad(k, "table %s is listed twice", k.Value)
			continue
		}
		t := &Table{Name: k.Value, Columns: map[string]Class{}, Line: k.Line, Col: k.Column, ColumnPos: map[string]Pos{}}
		if v.Kind != yaml.MappingNode {
			bad(v, "table %s: a mapping with entity and columns", k.Value)
			continue
		}
		var entity *yaml.Node
		hasEntity := false
		for j := 0; j+1 < len(v.Content); j += 2 {
			tk, tv := v.Content[j], v.Content[j+1]
			switch tk.Value {
			case "entity":
				hasEntity = true
				entity = tv
				if tv.Kind != yaml.SequenceNode {
					bad(tv, "table %s: entity is a list of columns ([] for none)", k.Value)
					continue
				}
				for _, e := range tv.Content {
					t.Entity = append(t.Entity, e.Value)
				}
			case "namespace":
				t.Namespace = tv.Value
			case "people":
				if tv.Kind != yaml.SequenceNode {
					bad(tv, "table %s: people is a list of columns", k.Value)
					continue
				}
				for _, e := range tv.Content {
					t.People = append(t.People, e.Value)
				}
			case "owner":
				var o Owner
				if err := tv.Decode(&o); err != nil || o.Column == "" || o.Table == "" {
					bad(tv, "table %s: owner is {column: <this table's column>, table: <the owning table>}", k.Value)
					continue
				}
				t.Owner = &o
			case "columns":
				if tv.Kind != yaml.MappingNode {
					bad(tv, "table %s: columns is a mapping of column name to class", k.Value)
					continue
				}
				for m := 0; m+1 < len(tv.Content); m += 2 {
					ck, cv := tv.Content[m], tv.Content[m+1]
					if !identRE.MatchString(ck.Value) {
						bad(ck, "table %s: column name %q: lower-case letters, digits and _ only", k.Value, ck.Value)
						continue
					}
					if _, dup := t.Columns[ck.Value]; dup {
						bad(ck, "table %s: column %s is listed twice", k.Value, ck.Value)
						continue
					}
					cl := Class(cv.Value)
					if !cl.Valid() {
						bad(cv, "table %s: column %s: unknown class %q (one of %s)", k.Value, ck.Value, cv.Value, classList())
						continue
					}
					t.Columns[ck.Value] = cl
					t.Order = append(t.Order, ck.Value)
					t.ColumnPos[ck.Value] = Pos{Line: ck.Line, Col: ck.Column}
				}
			default:
				bad(tk, "table %s: unknown key %q (a table has entity, people, owner, namespace and columns)", k.Value, tk.Value)
			}
		}
		if !hasEntity {
			bad(k, "table %s: entity is missing: list the columns that identify the person behind a row, or [] if none does", k.Value)
		}
		if t.Namespace != "" {
			if cl, ok := t.Columns[t.Namespace]; !ok || cl != Key {
				bad(k, "table %s: namespace column %s must be one of its columns, of class key", k.Value, t.Namespace)
			}
		}
		for _, c := range t.People {
			if cl, ok := t.Columns[c]; !ok || cl != Key {
				bad(k, "table %s: people column %s must be one of its columns, of class key", k.Value, c)
			}
		}
		if t.Owner != nil {
			if cl, ok := t.Columns[t.Owner.Column]; !ok || cl != Key {
				bad(k, "table %s: owner column %s must be one of its columns, of class key", k.Value, t.Owner.Column)
			}
			if len(t.Entity) > 0 {
				bad(k, "table %s: a table with entity keys has no owner", k.Value)
			}
		}
		for idx, e := range t.Entity {
			cl, ok := t.Columns[e]
			switch {
			case !ok:
				bad(entity.Content[idx], "table %s: entity column %s is not in its columns", k.Value, e)
			case cl != Key:
				bad(entity.Content[idx], "table %s: entity column %s must have class key, not %s", k.Value, e, cl)
			}
		}
		c.tables[t.Name] = t
	}
	for _, t := range c.Tables() {
		if t.Owner == nil {
			continue
		}
		switch o := c.tables[t.Owner.Table]; {
		case o == nil:
			ps = append(ps, Problem{File: file, Line: t.Line, Col: 3, Message: fmt.Sprintf("table %s: owner table %s is not in the catalog", t.Name, t.Owner.Table)})
		case len(o.Entity) == 0:
			ps = append(ps, Problem{File: file, Line: t.Line, Col: 3, Message: fmt.Sprintf("table %s: owner table %s has no entity keys", t.Name, t.Owner.Table)})
		case o.Columns["id"] != Key:
			ps = append(ps, Problem{File: file, Line: t.Line, Col: 3, Message: fmt.Sprintf("table %s: owner table %s has no id column", t.Name, t.Owner.Table)})
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

func classList() string {
	var s []string
	for _, c := range Classes {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

// Entry renders a catalog entry for a table, as Draft and messages print
// it: classes for the given columns, entity keys first.
func Entry(t *Table) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "  %s:\n    entity: [%s]\n    columns:\n", t.Name, strings.Join(t.Entity, ", "))
	cols := slices.Clone(t.Order)
	if len(cols) == 0 {
		for c := range t.Columns {
			cols = append(cols, c)
		}
		slices.Sort(cols)
	}
	for _, c := range cols {
		fmt.Fprintf(&b, "      %s: %s\n", c, cmp.Or(t.Columns[c], Text))
	}
	return b.String()
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SourceColumn is one column of a source database, as
// information_schema.columns lists it.
type SourceColumn struct {
	Table, Column, DataType string
}

// DriftProblems compares the catalog with the columns of a source database
// and returns, located in the catalog file, every catalogued column the
// source does not have and every source column the catalog does not list,
// sorted by position. Only tables both list are compared: a table the catalog
// does not list is denied (no drift to report), and a catalogued table the
// source does not have is not drift either, as the catalog spans GitLab
// versions (ci_pipelines and p_ci_pipelines).
func (c *Catalog) DriftProblems(cols []SourceColumn) Problems {
	file := cmp.Or(c.File, DefaultFile)
	source := map[string]map[string]bool{}
	for _, sc := range cols {
		if source[sc.Table] == nil {
			source[sc.Table] = map[string]bool{}
		}
		source[sc.Table][sc.Column] = true
	}
	var ps Problems
	for _, t := range c.Tables() {
		have := source[t.Name]
		if have == nil {
			continue
		}
		for _, col := range t.Order {
			if !have[col] {
				pos := t.ColumnPos[col]
				ps = append(ps, Problem{File: file, Line: pos.Line, Col: pos.Col,
					Message: fmt.Sprintf("%s.%s is catalogued but the source has no such column", t.Name, col)})
			}
		}
		for _, col := range slices.Sorted(maps.Keys(have)) {
			if _, ok := t.Columns[col]; !ok {
				ps = append(ps, Problem{File: file, Line: t.Line, Col: t.Col,
					Message: fmt.Sprintf("source column %s.%s is not catalogued: add it to %s (security owners review it)", t.Name, col, path.Base(file))})
			}
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), strings.Compare(a.Message, b.Message))
	})
	return ps
}

// Drift is DriftProblems as sorted messages without positions:
// "schema.yml: users.foo is catalogued but the source has no such column",
// "source column users.bar is not catalogued: add it to schema.yml (security
// owners review it)".
func (c *Catalog) Drift(cols []SourceColumn) []string {
	var out []string
	for _, p := range c.DriftProblems(cols) {
		if strings.HasPrefix(p.Message, "source column ") {
			out = append(out, p.Message)
		} else {
			out = append(out, path.Base(p.File)+": "+p.Message)
		}
	}
	slices.Sort(out)
	return out
}
