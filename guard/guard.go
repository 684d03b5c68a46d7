package guard

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/schema"
)

// Rule identifiers, stable across releases: reports, code-quality
// fingerprints and tests refer to them.
const (
	RuleSyntax            = "guard/syntax"
	RuleStatement         = "guard/statement"
	RuleInto              = "guard/into"
	RuleLocking           = "guard/locking"
	RuleModifyingCTE      = "guard/data-modifying-cte"
	RuleRecursiveCTE      = "guard/recursive-cte"
	RuleFunction          = "guard/function"
	RuleCollecting        = "guard/collecting-aggregate"
	RuleNotAggregate      = "guard/not-aggregate"
	RuleWindow            = "guard/window"
	RuleGroupingSets      = "guard/grouping-sets"
	RuleDistinctOn        = "guard/distinct-on"
	RuleRedColumn         = "guard/red-column"
	RuleGroupSize         = "guard/group-size"
	RuleOutputName        = "guard/output-name"
	RuleSystemCatalog     = "guard/system-catalog"
	RuleColumnAliases     = "guard/table-column-aliases"
	RuleParameter         = "guard/parameter"
	RuleTableSample       = "guard/tablesample"
	RuleQualifiedOperator = "guard/operator"
	RuleType              = "guard/type"
	RuleEncoding          = "guard/encoding"
	RuleNesting           = "guard/nesting"
	RuleOperatorRun       = "guard/operator-run"
	RuleIdentifier        = "guard/identifier"
	RuleTooMany           = "guard/too-many-problems"
	RuleCatalog           = "guard/catalog"
	RuleColumn            = "guard/column"
	RuleSystemColumn      = "guard/system-column"
	RuleWholeRow          = "guard/whole-row"
	RuleKeyColumn         = "guard/key-column"
	RuleTimeKey           = "guard/time-key"
	RuleEntity            = "guard/entity"
	RuleRewrite           = "guard/rewrite"
	RuleRegex             = "guard/regex"
	RuleArithmetic        = "guard/arithmetic"
	RulePick              = "guard/pick"
)

// Config configures a Guard.
type Config struct {
	// Schema is the reviewed schema catalog (schema.yml). Required: the
	// guard denies every table and column it does not list.
	Schema *schema.Catalog
	// RedColumns are glob patterns of red column names (see
	// DefaultRedColumns for the syntax), used to draft catalog entries and
	// by IsRed. Nil means DefaultRedColumns; an empty non-nil slice means
	// none.
	RedColumns []string
}

// Guard checks query text against the static rules. It is safe for
// concurrent use.
type Guard struct {
	red *redSet
	cat *schema.Catalog
}

// New returns a Guard for cfg, or an error naming a bad red-column pattern.
// A Guard without a schema catalog refuses every query (IsRed works).
func New(cfg Config) (*Guard, error) {
	patterns := cfg.RedColumns
	if patterns == nil {
		patterns = DefaultRedColumns
	}
	red, err := newRedSet(patterns)
	if err != nil {
		return nil, fmt.Errorf("guard config: red_columns: %w", err)
	}
	return &Guard{red: red, cat: cfg.Schema}, nil
}

// Schema returns the guard's schema catalog.
func (g *Guard) Schema() *schema.Catalog { return g.cat }

// IsRed reports whether column of table matches one of the guard's red
// column patterns, the same way a column reference in a query does.
func (g *Guard) IsRed(table, column string) bool {
	_, ok := g.red.match(column, []string{table})
	return ok
}

// Violation is one broken rule, located in the checked text.
type Violation struct {
	// Offset is the byte offset in the checked text the violation points at.
	Offset int
	// Line and Col are 1-based; Col counts characters, not bytes.
	Line, Col int
	// Rule is one of the Rule constants.
	Rule string
	// Message says what is wrong and, where one exists, how to fix it.
	Message string
}

// String renders the violation as "line:col: message".
func (v Violation) String() string {
	return fmt.Sprintf("%d:%d: %s", v.Line, v.Col, v.Message)
}

// Kind says what an output column of the top-level SELECT is made of.
type Kind int

// The kinds of output columns.
const (
	// GroupKey is a GROUP BY expression or an expression of GROUP BY
	// expressions only.
	GroupKey Kind = iota + 1
	// Aggregate contains an aggregate call; at run time its type must be
	// numeric, boolean, date/time or interval.
	Aggregate
	// Constant references no column.
	Constant
)

func (k Kind) String() string {
	switch k {
	case GroupKey:
		return "group key"
	case Aggregate:
		return "aggregate"
	case Constant:
		return "constant"
	}
	return "unknown"
}

// Column is one output column of an accepted query.
type Column struct {
	Name string
	Kind Kind
	// Line and Col locate the column's expression in the text.
	Line, Col int
}

// Analysis is what the guard learned about a query.
type Analysis struct {
	// Columns are the output columns of the top-level SELECT, in order.
	Columns []Column
	// Tables are the base tables the query reads, sorted.
	Tables []string
	// Entities describe what each row is counted in: the entity key
	// columns whose distinct values metricgate counts, "merge_requests.author_id".
	Entities []string

	rewritten string // the query text with the hidden columns, k as kMarker
	inserts   []insertion
}

// kMarker stands for min_group_size in the rewritten text; a NUL byte
// cannot be in a checked query. It is as long as the number SQL writes for
// k (ten digits, leading zeros), so offsets are the same for every k.
const kMarker = "\x00kkkkkkkk\x00"

// SQL returns the text to run: the checked text with the hidden columns
// that count the people behind every row and cell, for a query whose
// min_group_size is k. The result has HiddenColumns more columns than
// Columns, last.
func (an *Analysis) SQL(k int) string {
	return strings.ReplaceAll(an.rewritten, kMarker, fmt.Sprintf("%010d", k))
}

// Options are a query's settings the guard needs.
type Options struct {
	// GroupSize names the output column the author means as the row's size
	// (the group_size header); empty skips that rule.
	GroupSize string
	// Namespaces opts into counting namespaces (customers) for tables that
	// hold no person's rows (the entity: namespace header).
	Namespaces bool
}

// Check parses src with PostgreSQL's parser and applies every static rule.
// groupSize names the output column the author means as the row's size
// (the group_size header); empty skips that rule. It returns every
// violation found, sorted by position, and an Analysis that is complete
// only when there are none.
func (g *Guard) Check(src, groupSize string) (*Analysis, []Violation) {
	return g.CheckWith(src, Options{GroupSize: groupSize})
}

// CheckWith is Check with all of a query's options.
func (g *Guard) CheckWith(src string, o Options) (*Analysis, []Violation) {
	c := &checker{g: g, src: src, seen: map[string]bool{}, tables: map[string]bool{}}
	if g.cat == nil {
		return &Analysis{}, []Violation{{Line: 1, Col: 1, Rule: RuleCatalog,
			Message: fmt.Sprintf("no schema catalog is configured (guard.schema, default %s): every table is denied", schema.DefaultFile)}}
	}
	an := c.check(o)
	slices.SortStableFunc(c.vs, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Offset, b.Offset), strings.Compare(a.Rule, b.Rule))
	})
	if c.dropped > 0 {
		last := c.vs[len(c.vs)-1]
		c.vs = append(c.vs, Violation{Offset: last.Offset, Line: last.Line, Col: last.Col, Rule: RuleTooMany,
			Message: fmt.Sprintf("%d more problems not shown; fix these first", c.dropped)})
	}
	for t := range c.tables {
		an.Tables = append(an.Tables, t)
	}
	slices.Sort(an.Tables)
	return an, c.vs
}

type checker struct {
	g      *Guard
	src    string
	vs     []Violation
	seen   map[string]bool
	tables map[string]bool
	tokens []*pg.ScanToken
	hashes map[*pg.Node]uint64

	lineStarts []int // byte offsets of line starts, for position
	ascii      bool
	dropped    int // violations over MaxViolations

	comparisons int // full expression comparisons made by keySet.has
	mute        bool
}

func (c *checker) check(o Options) *Analysis {
	an := &Analysis{}
	if i := strings.IndexByte(c.src, 0); i >= 0 {
		c.add(int32(i), RuleEncoding, "NUL byte in the query text")
		return an
	}
	if !utf8.ValidString(c.src) {
		c.add(int32(firstInvalidUTF8(c.src)), RuleEncoding, "query text is not valid UTF-8")
		return an
	}
	if at, n := longestOperatorRun(c.src); n > MaxOperatorRun {
		c.add(int32(at), RuleOperatorRun,
			"a run of %d operator characters (+-*/<>=~!@#%%^&|`?) here; PostgreSQL's scanner takes time quadratic in such runs, so more than %d in a row are refused: separate them with blanks",
			n, MaxOperatorRun)
		return an
	}
	// Too deep a tree crashes the parser (see MaxNesting): measure first.
	depth, deepest := nesting(c.scan(), MaxNesting)
	if depth > MaxNesting {
		c.add(deepest, RuleNesting, "%s", nestingMessage)
		return an
	}
	c.checkIdentifiers()
	tree, err := pg.Parse(c.src)
	if err != nil {
		var pe *parser.Error
		switch {
		case errors.As(err, &pe):
			c.add(c.charToByte(pe.Cursorpos), RuleSyntax, "syntax error: %s", pe.Message)
		case strings.Contains(err.Error(), "exceeded maximum recursion depth"):
			// Within MaxNesting, but the tree's nodes are larger than
			// nesting counts: the protobuf decoder's own limit.
			c.add(deepest, RuleNesting, "%s", nestingMessage)
		default:
			c.add(0, RuleSyntax, "parse: %v", err)
		}
		return an
	}
	switch len(tree.Stmts) {
	case 0:
		c.add(int32(len(c.src)), RuleStatement, "no SQL statement after the header")
		return an
	case 1:
	default:
		c.add(c.stmtStart(tree.Stmts[1].StmtLocation), RuleStatement,
			"only one statement is allowed; found %d", len(tree.Stmts))
	}
	raw := tree.Stmts[0]
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil {
		c.add(c.stmtStart(raw.StmtLocation), RuleStatement,
			"only a plain SELECT is allowed; this is %s", statementKind(raw.Stmt))
		return an
	}
	c.walkGlobal(tree.ProtoReflect(), raw.StmtLocation)
	top := c.checkTop(sel, c.stmtStart(raw.StmtLocation))
	c.checkNames(top)
	if o.GroupSize != "" {
		c.checkGroupSize(top, o.GroupSize, c.stmtStart(raw.StmtLocation))
	}
	c.analyzeEntities(sel, an, o, c.stmtStart(raw.StmtLocation))
	for _, col := range top {
		line, colno := c.position(col.loc)
		an.Columns = append(an.Columns, Column{Name: col.name, Kind: col.kind, Line: line, Col: colno})
	}
	return an
}

var nestingMessage = fmt.Sprintf("expressions nest too deeply here (more than %d levels of parentheses and chained operators) for PostgreSQL's parser to take safely; simplify the query", MaxNesting)

// MaxViolations is the most violations Check reports for one text; a text
// with more gets a last violation saying how many more there are.
const MaxViolations = 100

// add records a violation at byte offset loc once per (offset, rule,
// message).
func (c *checker) add(loc int32, rule, format string, args ...any) {
	if c.mute {
		return
	}
	if loc < 0 {
		loc = 0
	}
	msg := fmt.Sprintf(format, args...)
	key := fmt.Sprintf("%d/%s/%s", loc, rule, msg)
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	if len(c.vs) >= MaxViolations {
		c.dropped++
		return
	}
	line, col := c.position(loc)
	c.vs = append(c.vs, Violation{Offset: int(loc), Line: line, Col: col, Rule: rule, Message: msg})
}

// position turns a byte offset into a 1-based line and character column.
func (c *checker) position(off int32) (line, col int) {
	if c.lineStarts == nil {
		c.lineStarts = []int{0}
		for i := range len(c.src) {
			if c.src[i] == '\n' {
				c.lineStarts = append(c.lineStarts, i+1)
			}
		}
		c.ascii = true
		for i := range len(c.src) {
			if c.src[i] >= utf8.RuneSelf {
				c.ascii = false
				break
			}
		}
	}
	o := min(max(int(off), 0), len(c.src))
	line = sort.SearchInts(c.lineStarts, o+1) // lines starting at or before o
	start := c.lineStarts[line-1]
	if c.ascii {
		return line, o - start + 1
	}
	return line, utf8.RuneCountInString(c.src[start:o]) + 1
}

// charToByte converts PostgreSQL's 1-based character cursor into a byte
// offset.
func (c *checker) charToByte(pos int) int32 {
	if pos <= 1 {
		return 0
	}
	n := 0
	for i := range c.src {
		n++
		if n == pos {
			return int32(i)
		}
	}
	return int32(len(c.src))
}

// scan returns the tokens of the text, scanned once.
func (c *checker) scan() []*pg.ScanToken {
	if c.tokens == nil {
		res, err := pg.Scan(c.src)
		if err != nil || res == nil {
			c.tokens = []*pg.ScanToken{}
		} else {
			c.tokens = res.Tokens
		}
	}
	return c.tokens
}

// stmtStart returns the offset of the first real token at or after loc
// (statement locations include the leading comments).
func (c *checker) stmtStart(loc int32) int32 {
	for _, t := range c.scan() {
		if t.Start < loc || t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT {
			continue
		}
		return t.Start
	}
	return loc
}

// keyword returns the offset of the first keyword word at or after from,
// or fallback.
func (c *checker) keyword(from int32, fallback int32, word string) int32 {
	for _, t := range c.scan() {
		if t.Start >= from && strings.EqualFold(c.src[t.Start:t.End], word) {
			return t.Start
		}
	}
	return fallback
}

func firstInvalidUTF8(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return 0
}

var camel = regexp.MustCompile(`([a-z])([A-Z])`)

// statementKind names a statement node for a message: "INSERT", "COPY",
// "CREATE TABLE AS".
func statementKind(n *pg.Node) string {
	m := n.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("node")
	if od == nil {
		return "not a SELECT"
	}
	fd := m.WhichOneof(od)
	if fd == nil {
		return "not a SELECT"
	}
	name := string(fd.Message().Name())
	name = strings.TrimSuffix(name, "Stmt")
	switch name {
	case "Createdb":
		name = "CreateDatabase"
	case "Dropdb":
		name = "DropDatabase"
	case "VariableSet":
		name = "Set"
	case "VariableShow":
		name = "Show"
	case "Transaction":
		name = "TransactionControl"
	}
	return "a " + strings.ToUpper(camel.ReplaceAllString(name, "$1 $2")) + " statement"
}

// CheckQuery checks a query file's text with its header's options.
func (g *Guard) CheckQuery(q *catalog.Query) (*Analysis, []Violation) {
	return g.CheckWith(q.Text, Options{GroupSize: q.GroupSize, Namespaces: q.Entity == "namespace"})
}
