package dump

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/schema"
	"gitlab.com/metricgate/metricgate/warehouse"
)

// DefaultGroup is the group dumped when dump.yml names none.
const DefaultGroup = "gitlab-org"

// Definition is a parsed dump.yml: the group and, in file order, the
// tables to export.
type Definition struct {
	// Path is the file's name, for messages.
	Path string
	// Group is the full path of the dumped group. Default DefaultGroup.
	Group string
	// Schema is the source schema the tables are in. Default "public".
	Schema string
	// Tables in file order.
	Tables []*Table
	// SHA256 is the hex SHA-256 of the file's bytes (the manifest's
	// config_sha256).
	SHA256 string
}

// Table is one exported table of dump.yml.
type Table struct {
	// Name of the source table, also the warehouse table's.
	Name string
	// Columns is the allowlist of exported columns, in order.
	Columns []string
	// Pseudonymize lists the columns of Columns whose values are replaced
	// by their keyed HMAC.
	Pseudonymize []string
	// Public lists the columns of Columns whose free text an anonymous
	// visitor sees (an issue's title, a note's body): a column of class
	// Text is exported in clear only when listed here.
	Public []string
	// Scope ties the table's rows to the public project set.
	Scope Scope
	// Mode is KindFull (default: every dump exports the whole table) or
	// KindIncremental (an incremental dump exports the rows changed
	// since the previous dump and the keys of the rows that left).
	Mode warehouse.DumpMode
	// UpdatedAt is the column an incremental table's changes are found by
	// (updated_at: a timestamp every change sets). Required for
	// KindIncremental.
	UpdatedAt string
	// Key is the integer primary-key column increments are merged on.
	// Default "id"; it must be exported and not pseudonymized.
	Key string
	// Source is the role of the database that holds the table (main, ci,
	// …). Default "main".
	Source string
	// Line is where the table is declared, for messages.
	Line, Col int
	// pos is where each column is listed.
	pos map[string][2]int
}

// Pseudonymized reports whether column c is pseudonymized.
func (t *Table) Pseudonymized(c string) bool { return slices.Contains(t.Pseudonymize, c) }

// Scope is how a table's rows are tied to what an anonymous visitor sees:
// one of the scope kinds of the package documentation, and the column it
// applies to.
type Scope struct {
	// Kind is group, project, issue, merge_request, note, label,
	// milestone, pipeline, target or event.
	Kind string
	// Column holds the id the kind is checked on (for target, the id of
	// the polymorphic reference; unused for event).
	Column string
	// Type is the column naming the target's class (target only).
	Type string
	// Features are the project features that must be public (project
	// only): issues, merge_requests, repository, builds, wiki, snippets,
	// pages, …, each a <feature>_access_level column of project_features.
	Features []string
}

// Problem is one thing wrong with dump.yml, at a position of the file.
type Problem struct {
	Path      string
	Line, Col int
	Message   string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.Path, p.Line, p.Col, p.Message)
}

// Problems are every problem found in one pass; it is the error ParseConfig
// returns.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// MainRole is the role of the database holding namespaces, projects and
// the other tables the scope rules read.
const MainRole = "main"

// features are the project_features columns a project scope may require.
var features = []string{"issues", "merge_requests", "repository", "builds", "wiki", "snippets", "pages", "forking",
	"analytics", "operations", "security_and_compliance", "container_registry", "environments", "releases"}

// neverExported are tables no dump.yml may list.
var neverExported = map[string]string{
	"users": "the users table is never exported (emails, tokens, password digests; author ids can be pseudonymized instead)",
}

var (
	identRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	groupRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$`)
)

// Class is how the dump treats a column's values.
type Class int

// The classes of a column, from the least to the most restricted. A Text
// or Red column is exported in clear only when dump.yml lists it under
// public (what an anonymous visitor sees of the rows in the scope: an
// issue's title, a public group's name); otherwise it must be
// pseudonymized or left out. A column matching NeverPublic cannot be
// public, whatever its class.
const (
	// Plain values are exported as they are: ids, levels, times, counts.
	Plain Class = iota
	// Text is free text and customer content: titles, descriptions, note
	// bodies, paths, refs, shas.
	Text
	// Red is personal data, credentials and secrets, and names that may
	// be a person's (a namespace's name and path are a user's for a
	// personal namespace).
	Red
)

// Classifier gives the class of a column of a table: CatalogClassifier
// (the schema catalog, schema.yml) or PatternClassifier (red-column
// patterns, without a catalog).
type Classifier func(table, column string) Class

// Options are how ParseWith classifies columns.
type Options struct {
	// Classify classifies every exported column. Nil classes every
	// column Plain: only NeverPublic is refused in clear.
	Classify Classifier
}

// NeverPublic are column patterns no anonymous visitor of GitLab ever
// sees, whatever a classifier says: e-mail addresses, passwords and their
// digests, secrets, tokens, encrypted attributes, IP addresses, user
// agents, keys and fingerprints, URLs (import_url carries the user and
// password of the imported repository; any *_url may), CI variables and
// the service desk's reply address. A pattern is a glob (path.Match) on
// the lower-cased column name. Such a column must be pseudonymized or
// left out; public cannot list it.
var NeverPublic = []string{"*email*", "*password*", "*secret*", "*salt*", "*_digest", "*token*", "encrypted_*", "*_encrypted",
	"*_ip", "ip_address", "*_ip_address", "*user_agent*", "*private_key*", "otp_*", "*fingerprint*",
	"import_url", "*_url", "yaml_variables", "service_desk_reply_to"}

// neverPublic reports whether column matches NeverPublic.
func neverPublic(column string) bool {
	c := strings.ToLower(column)
	for _, p := range NeverPublic {
		if ok, _ := path.Match(p, c); ok {
			return true
		}
	}
	return false
}

// CatalogClassifier classifies by the schema catalog: its text class is
// Text, its red class Red, every other class Plain; a table or column the
// catalog does not list is Red (what nobody reviewed is not exported in
// clear).
func CatalogClassifier(c *schema.Catalog) Classifier {
	return func(table, column string) Class {
		t := c.Table(table)
		if t == nil {
			return Red
		}
		switch class, ok := t.Column(column); {
		case !ok || class == schema.Red:
			return Red
		case class == schema.Text:
			return Text
		}
		return Plain
	}
}

// PatternClassifier classes a column Red when it matches one of
// patterns (the syntax of guard.red_columns: a case-insensitive glob on
// the column, or on table.column when the pattern has a dot), and Plain
// otherwise: the classification without a schema catalog. It has no Text
// class. NeverPublic, which ParseWith applies whatever the classifier,
// covers the guard's default red columns.
func PatternClassifier(patterns []string) (Classifier, error) {
	for _, p := range patterns {
		if _, err := path.Match(strings.ToLower(p), ""); err != nil || p == "" {
			return nil, fmt.Errorf("red column pattern %q: want a glob such as *email* or users.name", p)
		}
	}
	return func(table, column string) Class {
		for _, p := range patterns {
			name := column
			if strings.Contains(p, ".") {
				name = table + "." + column
			}
			if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(name)); ok {
				return Red
			}
		}
		return Plain
	}, nil
}

// ParseConfig reads dump.yml at name in fsys and checks it: known keys,
// identifiers, a scope on every table that fits the table (tableScopes),
// pseudonymized columns among the exported ones, and the columns by their
// class: with the schema catalog schema.yml beside dump.yml in fsys,
// CatalogClassifier (a text or red column marked public, pseudonymized or
// left out), and PatternClassifier(redColumns) (redColumns being
// guard.red_columns: Red as well). A NeverPublic column is never public. It returns
// every problem at once as Problems, positioned at the offending key or
// value; a catalog that does not parse is an error.
func ParseConfig(fsys fs.FS, name string, redColumns []string) (*Definition, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read dump definition: %w", err)
	}
	patterns, err := PatternClassifier(redColumns)
	if err != nil {
		return nil, err
	}
	cat, err := schema.Load(fsys, schema.DefaultFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ParseWith(name, data, Options{Classify: patterns})
	case err != nil:
		return nil, fmt.Errorf("classify the dump's columns: %w", err)
	}
	byCatalog := CatalogClassifier(cat)
	return ParseWith(name, data, Options{Classify: func(table, column string) Class {
		return max(byCatalog(table, column), patterns(table, column))
	}})
}

// Parse is ParseWith classifying by PatternClassifier(redColumns) (the
// configuration's guard.red_columns, nil for none beyond NeverPublic);
// path names the file in problems.
func Parse(path string, data []byte, redColumns []string) (*Definition, error) {
	classify, err := PatternClassifier(redColumns)
	if err != nil {
		return nil, err
	}
	return ParseWith(path, data, Options{Classify: classify})
}

// ParseWith parses dump.yml's bytes (path names the file in problems)
// with the columns classified by opts.Classify: a Text or Red column must
// be marked public, pseudonymized or left out, a NeverPublic column
// pseudonymized or left out.
func ParseWith(path string, data []byte, opts Options) (*Definition, error) {
	sum := sha256.Sum256(data)
	def := &Definition{Path: path, Group: DefaultGroup, Schema: "public", SHA256: hex.EncodeToString(sum[:])}
	p := &parser{path: path}
	classify := opts.Classify
	if classify == nil {
		classify = func(string, string) Class { return Plain }
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(1, 1, "empty dump definition: want group and tables")
			return nil, p.problems
		}
		line := 1
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			// yaml.v3 says "yaml: line N: …"; without a line, 1 stays.
			if _, serr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: line "), "%d", &line); serr != nil {
				line = 1
			}
		}
		p.add(line, 1, "not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.problems
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.at(root, "want a mapping with group and tables")
		return nil, p.problems
	}
	var tablesNode *yaml.Node
	for k, v := range pairs(root) {
		switch k.Value {
		case "group":
			if v.Kind != yaml.ScalarNode || !groupRE.MatchString(v.Value) {
				p.at(v, fmt.Sprintf("group %q: want a group's full path such as gitlab-org or gitlab-org/frontend", v.Value))
				continue
			}
			def.Group = v.Value
		case "schema":
			if v.Kind != yaml.ScalarNode || !identRE.MatchString(v.Value) {
				p.at(v, fmt.Sprintf("schema %q: want a lower-case identifier", v.Value))
				continue
			}
			def.Schema = v.Value
		case "tables":
			tablesNode = v
		default:
			p.unknown(k, []string{"group", "schema", "tables"})
		}
	}
	if tablesNode == nil {
		p.at(root, "no tables: list the tables to export under tables")
		return nil, p.problems
	}
	if tablesNode.Kind != yaml.MappingNode {
		p.at(tablesNode, "tables: want a mapping of table name to its columns and scope")
		return nil, p.problems
	}
	seen := map[string]bool{}
	for k, v := range pairs(tablesNode) {
		name := k.Value
		if why, ok := neverExported[name]; ok {
			p.at(k, why)
			continue
		}
		if !identRE.MatchString(name) {
			p.at(k, fmt.Sprintf("table %q: want a lower-case identifier", name))
			continue
		}
		if seen[name] {
			p.at(k, fmt.Sprintf("table %s is listed twice", name))
			continue
		}
		seen[name] = true
		if t := p.table(name, k, v, classify); t != nil {
			def.Tables = append(def.Tables, t)
		}
	}
	if len(def.Tables) == 0 && len(p.problems) == 0 {
		p.at(tablesNode, "no tables: list the tables to export under tables")
	}
	if len(p.problems) > 0 {
		return nil, p.problems
	}
	return def, nil
}

type parser struct {
	path     string
	problems Problems
}

func (p *parser) add(line, col int, msg string) {
	p.problems = append(p.problems, Problem{Path: p.path, Line: line, Col: col, Message: msg})
}

func (p *parser) at(n *yaml.Node, msg string) { p.add(n.Line, n.Column, msg) }

func (p *parser) unknown(k *yaml.Node, known []string) {
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if s := catalog.Suggest(k.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (want " + strings.Join(known, ", ") + ")"
	}
	p.at(k, msg)
}

func pairs(n *yaml.Node) func(func(k, v *yaml.Node) bool) {
	return func(yield func(k, v *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// table parses one table's entry.
func (p *parser) table(name string, k, v *yaml.Node, classify Classifier) *Table {
	t := &Table{Name: name, Line: k.Line, Col: k.Column, Mode: KindFull, Key: "id", Source: MainRole}
	before := len(p.problems)
	if v.Kind != yaml.MappingNode {
		p.at(v, fmt.Sprintf("table %s: want columns, scope and optionally pseudonymize", name))
		return nil
	}
	var colsNode, pseudoNode, publicNode, scopeNode, keyNode, updatedNode, modeNode, sourceNode *yaml.Node
	ident := func(kk, vv *yaml.Node, what string) string {
		if vv.Kind != yaml.ScalarNode || !identRE.MatchString(vv.Value) {
			p.at(vv, fmt.Sprintf("table %s: %s: want %s", name, kk.Value, what))
			return ""
		}
		return vv.Value
	}
	for kk, vv := range pairs(v) {
		switch kk.Value {
		case "columns":
			colsNode = vv
		case "pseudonymize":
			pseudoNode = vv
		case "public":
			publicNode = vv
		case "scope":
			scopeNode = vv
		case "mode":
			modeNode = vv
			switch m := warehouse.DumpMode(vv.Value); m {
			case KindFull, KindIncremental:
				t.Mode = m
			default:
				p.at(vv, fmt.Sprintf("table %s: mode %q: want full or incremental", name, vv.Value))
			}
		case "updated_at":
			updatedNode = vv
			t.UpdatedAt = ident(kk, vv, "the timestamp column every change of a row sets")
		case "key":
			keyNode = vv
			t.Key = cmp.Or(ident(kk, vv, "the integer primary-key column"), t.Key)
		case "source":
			sourceNode = vv
			t.Source = cmp.Or(ident(kk, vv, "the role of the database holding the table (main, ci, …)"), t.Source)
		default:
			p.unknown(kk, []string{"columns", "pseudonymize", "public", "scope", "mode", "updated_at", "key", "source"})
		}
	}
	colPos := map[string]*yaml.Node{}
	if colsNode == nil {
		p.at(k, fmt.Sprintf("table %s: no columns: list the exported columns (an allowlist)", name))
	} else {
		t.Columns = p.identList(name, "columns", colsNode, colPos)
		if colsNode.Kind == yaml.SequenceNode && len(colsNode.Content) == 0 {
			p.at(colsNode, fmt.Sprintf("table %s: columns is empty", name))
		}
	}
	if pseudoNode != nil {
		pos := map[string]*yaml.Node{}
		t.Pseudonymize = p.identList(name, "pseudonymize", pseudoNode, pos)
		for _, c := range t.Pseudonymize {
			if _, ok := colPos[c]; !ok && colsNode != nil {
				p.at(pos[c], fmt.Sprintf("table %s: pseudonymized column %s is not among its columns", name, c))
			}
		}
	}
	publicPos := map[string]*yaml.Node{}
	if publicNode != nil {
		t.Public = p.identList(name, "public", publicNode, publicPos)
		for _, c := range t.Public {
			switch {
			case colPos[c] == nil && colsNode != nil:
				p.at(publicPos[c], fmt.Sprintf("table %s: public column %s is not among its columns", name, c))
			case t.Pseudonymized(c):
				p.at(publicPos[c], fmt.Sprintf("table %s: column %s is both public and pseudonymized: want one", name, c))
			case neverPublic(c):
				p.at(publicPos[c], fmt.Sprintf("table %s: column %s cannot be public: no anonymous visitor sees it (dump.NeverPublic): pseudonymize it or leave it out", name, c))
			}
		}
	}
	for _, c := range t.Columns {
		if t.Pseudonymized(c) || colPos[c] == nil {
			continue
		}
		switch class := classify(name, c); {
		case neverPublic(c):
			p.at(colPos[c], fmt.Sprintf("table %s: column %s is a red column no anonymous visitor sees (dump.NeverPublic): pseudonymize it or leave it out", name, c))
		case class == Red && !slices.Contains(t.Public, c):
			p.at(colPos[c], fmt.Sprintf("table %s: column %s is a red column (schema.yml class red, or guard.red_columns): pseudonymize it, leave it out, or mark it public (public: [%s]) if an anonymous visitor sees it", name, c, c))
		case class == Text && !slices.Contains(t.Public, c):
			p.at(colPos[c], fmt.Sprintf("table %s: column %s is free text (schema.yml class text): mark it public (public: [%s]) if an anonymous visitor sees it, else pseudonymize it or leave it out", name, c, c))
		}
	}
	if t.Mode == KindIncremental {
		if updatedNode == nil {
			p.at(modeNode, fmt.Sprintf("table %s: mode incremental needs updated_at: the column every change of a row sets", name))
		}
		at := k
		if keyNode != nil {
			at = keyNode
		}
		switch {
		case colsNode != nil && colPos[t.Key] == nil:
			p.at(at, fmt.Sprintf("table %s: key %s is not among its columns: increments are merged on it, so it must be exported", name, t.Key))
		case t.Pseudonymized(t.Key):
			p.at(at, fmt.Sprintf("table %s: key %s is pseudonymized: increments are merged on the key as it is", name, t.Key))
		}
	} else if updatedNode != nil {
		p.at(updatedNode, fmt.Sprintf("table %s: updated_at goes with mode: incremental", name))
	}
	if scopeNode == nil {
		p.at(k, fmt.Sprintf("table %s: no scope: every table must say how its rows belong to the public projects (scope: {%s: COLUMN})", name, "project"))
	} else {
		scopeProblems := len(p.problems)
		t.Scope = p.scope(name, scopeNode)
		if t.Source != MainRole && t.Scope.Kind != "" && !slices.Contains(remoteKinds, t.Scope.Kind) {
			p.at(sourceNode, fmt.Sprintf("table %s: source %s: a table outside the main database can be scoped by %s only (scope %s reads main tables)",
				name, t.Source, strings.Join(remoteKinds, ", "), t.Scope.Kind))
		}
		if len(p.problems) == scopeProblems {
			if msg := scopeFit(name, t.Scope); msg != "" {
				p.at(scopeNode, msg)
			}
		}
	}
	if len(p.problems) > before {
		return nil
	}
	t.pos = map[string][2]int{}
	for c, n := range colPos {
		t.pos[c] = [2]int{n.Line, n.Column}
	}
	return t
}

// DriftProblems positions the drift of a *DriftError in dump.yml: a
// listed column at its entry, a table or a column only the scope reads at
// the table's entry (or at 1:1 for a table only the scope rules read).
func (def *Definition) DriftProblems(e *DriftError) Problems {
	var out Problems
	for _, d := range e.Missing {
		line, col := 1, 1
		msg := fmt.Sprintf("the source has no %s (read by the scope rules)", d)
		for _, t := range def.Tables {
			if t.Name != d.Table {
				continue
			}
			line, col = t.Line, t.Col
			msg = fmt.Sprintf("table %s: the source has no such table", d.Table)
			if d.Column != "" {
				msg = fmt.Sprintf("table %s: the source has no column %s", d.Table, d.Column)
				if p, ok := t.pos[d.Column]; ok {
					line, col = p[0], p[1]
				} else {
					msg += " (read by its scope)"
				}
			}
		}
		out = append(out, Problem{Path: def.Path, Line: line, Col: col, Message: msg})
	}
	return out
}

func (p *parser) identList(table, key string, n *yaml.Node, pos map[string]*yaml.Node) []string {
	if n.Kind != yaml.SequenceNode {
		p.at(n, fmt.Sprintf("table %s: %s: want a list of column names", table, key))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		switch {
		case c.Kind != yaml.ScalarNode || !identRE.MatchString(c.Value):
			p.at(c, fmt.Sprintf("table %s: %s: %q is not a lower-case column name", table, key, c.Value))
		case pos[c.Value] != nil:
			p.at(c, fmt.Sprintf("table %s: %s: column %s is listed twice", table, key, c.Value))
		default:
			pos[c.Value] = c
			out = append(out, c.Value)
		}
	}
	return out
}

func (p *parser) scope(table string, n *yaml.Node) Scope {
	var s Scope
	if n.Kind != yaml.MappingNode {
		p.at(n, fmt.Sprintf("table %s: scope: want a mapping such as {project: project_id}", table))
		return s
	}
	known := append(slices.Clone(scopeKinds), "type", "features")
	for k, v := range pairs(n) {
		switch {
		case k.Value == "type":
			if v.Kind != yaml.ScalarNode || !identRE.MatchString(v.Value) {
				p.at(v, fmt.Sprintf("table %s: scope type: want a column name", table))
			}
			s.Type = v.Value
		case k.Value == "features":
			pos := map[string]*yaml.Node{}
			for _, f := range p.identList(table, "scope features", v, pos) {
				if !slices.Contains(features, f) {
					msg := fmt.Sprintf("table %s: unknown project feature %q", table, f)
					if sug := catalog.Suggest(f, features); sug != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", sug)
					}
					p.at(pos[f], msg)
					continue
				}
				s.Features = append(s.Features, f)
			}
		case slices.Contains(scopeKinds, k.Value):
			if s.Kind != "" {
				p.at(k, fmt.Sprintf("table %s: scope has two kinds, %s and %s: want one", table, s.Kind, k.Value))
				continue
			}
			s.Kind = k.Value
			if v.Kind != yaml.ScalarNode || !identRE.MatchString(v.Value) {
				p.at(v, fmt.Sprintf("table %s: scope %s: want the column holding the %s id", table, k.Value, k.Value))
				continue
			}
			s.Column = v.Value
		default:
			p.unknown(k, known)
		}
	}
	switch {
	case s.Kind == "":
		p.at(n, fmt.Sprintf("table %s: scope names no kind: want one of %s", table, strings.Join(scopeKinds, ", ")))
	case s.Kind == "target" && s.Type == "":
		p.at(n, fmt.Sprintf("table %s: scope target needs type: the column naming the target's class", table))
	case s.Kind != "target" && s.Type != "":
		p.at(n, fmt.Sprintf("table %s: scope type goes with target only", table))
	case s.Kind != "project" && len(s.Features) > 0:
		p.at(n, fmt.Sprintf("table %s: scope features go with project only (issue, merge_request and pipeline check their own)", table))
	}
	return s
}
