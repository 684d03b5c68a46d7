package guard

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/schema"
)

// This file resolves every column reference against the schema catalog, as
// PostgreSQL resolves it, gives every expression the class of what it is
// made of, applies the class rules, and follows the entity keys of the
// tables read (the "carriers" of the people behind each row) from the base
// tables up to the top-level SELECT, where rewrite.go counts them.

// info is what the analyzer knows about the value of an expression.
type info struct {
	class   schema.Class // "" for a constant
	bare    bool         // a bare column reference (through pass-through columns too)
	origin  string       // the catalogued column it comes from, for messages: "users.email"
	rawTime bool         // an uncoarsened timestamp
	agg     bool         // contains an aggregate of this level
	entity  *carrier     // a bare reference to an entity key column: its carrier
	person  bool         // a bare reference to a column that identifies a person
	notNull bool         // never NULL: a count, a literal, arithmetic of those
	// narrow: depends on a comparison of an id, text or red column (or a
	// rank) with a literal, which can single out one person or one row.
	// Allowed in predicates, where metricgate counts who is left; refused
	// in values (CASE, select lists, group keys, function arguments).
	narrow bool
	rank   bool   // a ranking window function's value
	rel    *rel   // a bare reference: the relation
	col    string // and its column
	// aggSrc is the subquery or CTE reference whose aggregates the value
	// comes from; mixed, that it combines aggregates of two of them (one
	// over everyone, one over everyone but a few: differencing).
	aggSrc *rel
	mixed  bool
	// nonlinear: the value is not an affine function of the row's columns
	// (a product of two columns, sign(), abs(), round(), a power, a
	// comparison or CASE whose condition nobody counts, ...). Summed, such
	// a value can weigh one row by 1 and every other by 0, so aggregates
	// refuse it as their argument (checkAggArg).
	nonlinear bool
	// stepped: a step function (date_trunc, a cast to date or an integer)
	// of one column. Harmless alone; combined with anything else it can
	// build an indicator of one instant (the difference of two shifted
	// steps), so combining it makes the value nonlinear.
	stepped bool
	// classes: the branches of a set operation give the column values of
	// different classes (an id in one, a category in another).
	classes bool
	// picked: one row's value that a subquery picked (min, max, a
	// percentile) from rows of many people, while the subquery's row
	// carries them all: upward it may stand in a duration, be counted or
	// compared, not be grouped by, output or aggregated.
	picked bool
	// scale is how much constants have multiplied the row's columns in
	// the value (0 for 1): x * 1e9 + y packs two values into one number.
	scale float64
	// fractional: a value of a type with fractions (numeric, a float,
	// extract(…)): divided by a constant it is scaled, where an integer
	// divided by a constant is a step (x / 100 jumps every 100).
	fractional bool
	// single: one column, through casts and AT TIME ZONE a constant zone
	// only (what date_trunc may step without shifting it).
	single bool
	// onecol: one column, scaled or shifted by constants, or the
	// difference of two times (a duration): what min, max and the
	// percentiles may pick. Two columns added up would pick a whole row
	// packed into one number (created_at * 1e9 + sign_in_count).
	onecol bool
	// fine: depends on a comparison of a time with a literal finer than a
	// day (created_at = '2019-11-02 04:17:26.691619'), which can pick one
	// row as a name does: it may not stand under OR or NOT either.
	fine bool
	// catval: the value of a category column (through casts and affine
	// arithmetic): summed, it counts the rows of each category.
	catval bool
	// condAgg: an aggregate of a subquery over the rows a condition picks
	// (FILTER, CASE WHEN, a window over a condition), in a subquery whose
	// rows are not one person each: its value can be one person's while
	// the row counts everyone's. It may not be used outside that subquery.
	condAgg bool
	// duration: the difference of two times, both raw or both steps
	// (merged_at - created_at, closed_at::date - due_date::date): not a
	// time, so a pick may take it. A raw time minus a step, created_at -
	// date_trunc('year', created_at), is the instant itself.
	duration bool
}

// rank orders the classes by how restricted they are; combining takes the
// most restricted.
func rank(c schema.Class) int {
	switch c {
	case "":
		return 0
	case schema.Measure:
		return 1
	case schema.Time:
		return 2
	case schema.Category:
		return 3
	case schema.Key:
		return 4
	case schema.Text:
		return 5
	case schema.Red:
		return 6
	}
	return 6
}

func combine(a, b info) info {
	out := info{class: a.class, origin: a.origin, rawTime: a.rawTime || b.rawTime, agg: a.agg || b.agg,
		narrow: a.narrow || b.narrow, rank: a.rank || b.rank, aggSrc: cmp.Or(a.aggSrc, b.aggSrc),
		mixed:     a.mixed || b.mixed || a.aggSrc != nil && b.aggSrc != nil && a.aggSrc != b.aggSrc,
		nonlinear: a.nonlinear || b.nonlinear, stepped: a.stepped || b.stepped, fine: a.fine || b.fine,
		catval: a.catval || b.catval, condAgg: a.condAgg || b.condAgg, fractional: a.fractional || b.fractional,
		classes: a.classes || b.classes, picked: a.picked || b.picked, scale: max(a.scale, b.scale)}
	if rank(b.class) > rank(a.class) {
		out.class, out.origin = b.class, b.origin
	}
	return out
}

// restricted reports whether values of the class may only be compared or
// counted: keys, text and red columns.
func restricted(c schema.Class) bool { return c == schema.Key || c.Sensitive() }

// carrier is an SQL expression, valid in the SELECT that owns it, whose
// value identifies the people behind a row: an entity key column of a base
// table, or a hidden column of a derived table. A list carrier is a
// comma-separated text list of ids (from an aggregating derived table).
type carrier struct {
	expr string
	list bool
	what string // "merge_requests m (author_id)"
	// base identifies a scalar carrier that is a base column: the relation
	// and column, to match GROUP BY keys and ties.
	rel    *rel
	column string
	// owner is the owning table of an owner carrier (a lookup of the
	// owner's entity through column); "" for an entity key.
	owner string
	// picked marks the id of a table without people whose rows a literal
	// picks: counted like people, but no person.
	picked bool
	// zeroOK marks the people a namespace's rows name: their count must
	// be none or at least k, never between.
	zeroOK bool
	// rows counts rows, not people (count(*)): see rewriteTop.
	rows bool
}

// dcol is an output column of a derived table, a CTE or a function.
type dcol struct {
	name string
	info info
}

// rel is one name visible in a FROM clause.
type rel struct {
	alias    string
	table    *schema.Table // a base table
	cols     []dcol        // derived, function or VALUES columns
	carriers []carrier     // as the owning SELECT may write them
	members  []*rel        // the tables of a JOIN with an alias
	scope    *nscope       // the scope it is visible in
	sublink  int           // the sublink depth it belongs to
	unknown  bool          // refused already (not catalogued): its columns are not reported again
	// aggregated: a subquery or CTE whose rows are aggregates (GROUP BY,
	// aggregate functions).
	aggregated bool
	// series: a function in FROM (generate_series) or a VALUES list: rows
	// of the author's making.
	series bool
	// oneRow: an aggregating subquery or CTE without GROUP BY, not
	// LATERAL: one row, the same for every row it is joined to.
	oneRow bool
}

// cte is a WITH query: its columns and its hidden carrier columns.
type cte struct {
	cols       []dcol
	hidden     []hiddenCol
	invalid    bool
	star       bool // its columns come from a *
	aggregated bool
	oneRow     bool // see rel.oneRow
}

// hiddenCol is a hidden output column added to a derived SELECT.
type hiddenCol struct {
	name   string
	list   bool
	zeroOK bool
	what   string
}

type nscope struct {
	parent  *nscope
	ctes    map[string]*cte
	rels    []*rel
	sublink int // how many sublinks deep this scope is
}

func (s *nscope) findCTE(name string) *cte {
	for ; s != nil; s = s.parent {
		if c, ok := s.ctes[name]; ok {
			return c
		}
	}
	return nil
}

// systemColumns are PostgreSQL's hidden columns of every table.
var systemColumns = set("xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid")

// resolved is a column reference resolved to a relation.
type resolved struct {
	rel    *rel
	column string
	info   info
}

// lookupColumn finds column name in r: found reports whether r has it.
func (a *analyzer) lookupColumn(r *rel, name string) (info, bool) {
	switch {
	case r.unknown:
		return info{}, true
	case r.table != nil:
		cl, ok := r.table.Column(name)
		if !ok {
			return info{}, false
		}
		inf := info{class: cl, bare: true, origin: r.table.Name + "." + name, rawTime: cl == schema.Time, person: r.table.IsPerson(name), rel: r, col: name}
		if slices.Contains(r.table.Entity, name) {
			for i := range r.carriers {
				if r.carriers[i].column == name {
					inf.entity = &r.carriers[i]
				}
			}
		}
		return inf, true
	case r.members != nil:
		for _, m := range r.members {
			if inf, ok := a.lookupColumn(m, name); ok {
				return inf, true
			}
		}
		return info{}, false
	}
	for _, c := range r.cols {
		if c.name == name {
			inf := c.info
			if r.aggregated {
				inf.aggSrc = r
			}
			return inf, true
		}
	}
	return info{}, false
}

// findRel returns the relation visible as name, innermost first.
func findRel(s *nscope, name string) *rel {
	for ; s != nil; s = s.parent {
		for _, r := range s.rels {
			if r.alias == name {
				return r
			}
			for _, m := range r.members {
				if m.alias == name {
					return m
				}
			}
		}
	}
	return nil
}

// resolve resolves a column reference as PostgreSQL does: a qualified name
// in the relation of that name; an unqualified one in the innermost scope
// with a relation that has the column, an error when two relations of that
// scope have it.
func (a *analyzer) resolve(ref *pg.ColumnRef, s *nscope) (resolved, bool) {
	parts := refNames(ref)
	loc := ref.Location
	if isStar(ref) {
		a.c.add(loc, RuleNotAggregate, "* is allowed only in count(*) and in the select list of a subquery or CTE")
		return resolved{}, false
	}
	col := parts[len(parts)-1]
	if systemColumns[col] {
		a.c.add(loc, RuleSystemColumn, "system column %s is not data: it says where and when a row version was written, and may not be read", col)
		return resolved{}, false
	}
	if strings.HasPrefix(col, "__mg") {
		a.c.add(loc, RuleIdentifier, "names starting with __mg are reserved for metricgate's hidden columns")
		return resolved{}, false
	}
	switch len(parts) {
	case 1:
		for sc := s; sc != nil; sc = sc.parent {
			var hits []resolved
			for _, r := range sc.rels {
				if inf, ok := a.lookupColumn(r, col); ok {
					hits = append(hits, resolved{rel: r, column: col, info: inf})
				}
			}
			switch {
			case len(hits) == 1:
				return hits[0], true
			case len(hits) > 1:
				if a.sameUsing(hits) {
					return hits[0], true
				}
				var names []string
				for _, h := range hits {
					names = append(names, h.rel.alias)
				}
				a.c.add(loc, RuleColumn, "column %s is ambiguous: %s all have it; qualify it (%s.%s)", col, strings.Join(names, ", "), names[0], col)
				return resolved{}, false
			}
			// A relation named like the column is a whole-row reference.
			for _, r := range sc.rels {
				if r.alias == col {
					a.c.add(loc, RuleWholeRow, "%s is the whole row of %s, not a column: name the columns you need", col, col)
					return resolved{}, false
				}
			}
		}
		a.c.add(loc, RuleColumn, "column %s is not in the schema catalog of any table in scope%s", col, a.suggestTable(s, col))
		return resolved{}, false
	default:
		relName := parts[len(parts)-2]
		r := findRel(s, relName)
		if r == nil {
			a.c.add(loc, RuleColumn, "%s is not a table or alias in scope", relName)
			return resolved{}, false
		}
		inf, ok := a.lookupColumn(r, col)
		if !ok {
			if r.table != nil && fieldFunctions[col] {
				a.c.add(loc, RuleWholeRow, "%s has no column %s: PostgreSQL would read %s.%s as %s(%s), the whole row; name the columns you need",
					r.table.Name, col, relName, col, col, relName)
			} else if r.table != nil {
				a.c.add(loc, RuleCatalog, "column %s.%s is not in the schema catalog (%s): add it to %s with its class; the security owners review it%s",
					r.table.Name, col, a.catalogFile(), a.catalogFile(), a.didYouMean(r, col))
			} else {
				a.c.add(loc, RuleColumn, "%s has no column %s%s", relName, col, a.didYouMean(r, col))
			}
			return resolved{}, false
		}
		return resolved{rel: r, column: col, info: inf}, true
	}
}

func (a *analyzer) sameUsing(hits []resolved) bool {
	// USING (col) and NATURAL joins merge the column: PostgreSQL takes it
	// without qualification.
	for _, h := range hits {
		if !a.using[h.rel] {
			return false
		}
	}
	return true
}

func (a *analyzer) catalogFile() string {
	if a.cat != nil && a.cat.File != "" {
		return a.cat.File
	}
	return schema.DefaultFile
}

func (a *analyzer) suggestTable(s *nscope, col string) string {
	for sc := s; sc != nil; sc = sc.parent {
		for _, r := range sc.rels {
			if r.table != nil {
				return fmt.Sprintf(" (if it is a column of %s, add it to %s; the security owners review it)", r.table.Name, a.catalogFile())
			}
		}
	}
	return ""
}

func (a *analyzer) didYouMean(r *rel, col string) string {
	var cands []string
	if r.table != nil {
		cands = r.table.Order
	} else {
		for _, c := range r.cols {
			cands = append(cands, c.name)
		}
	}
	if s := catalog.Suggest(col, cands); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

func quoteIdent(s string) string {
	if columnName.MatchString(s) && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

var reservedWords = set("all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"both", "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
	"current_date", "current_role", "current_time", "current_timestamp", "current_user", "default",
	"deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign",
	"from", "grant", "group", "having", "in", "initially", "intersect", "into", "lateral", "leading",
	"limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order",
	"placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric",
	"system_user", "table", "then", "to", "trailing", "true", "union", "unique", "user", "using",
	"variadic", "when", "where", "window", "with", "authorization", "binary", "collation",
	"concurrently", "cross", "current_schema", "freeze", "full", "ilike", "inner", "is", "isnull",
	"join", "left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar", "tablesample",
	"verbose")

// analyzer holds the state of one analysis.
type analyzer struct {
	c       *checker
	cat     *schema.Catalog
	using   map[*rel]bool
	hidden  int // hidden column counter
	inserts []insertion

	nonNull       map[*rel]map[string]bool // columns a SELECT's WHERE or inner join makes non-NULL
	namespaces    bool                     // the query counts namespaces for tables without people
	rewriteFailed bool
	role          role // of the SELECT being analysed
	narrowSeen    int  // narrow comparisons analysed so far
	outerOn       bool // analysing the ON of an outer join
	// aggArg: analysing the argument of an aggregate at any level;
	// condSeen counts the conditions met there (a subquery's aggregate
	// with one is a conditioned value: see conditioned).
	aggArg   bool
	condSeen int
	// literalCols are the columns compared with a literal anywhere in the
	// query, and picks the min/max/percentile arguments: a pick of a column
	// compared with a literal is a pick of one row (min(x) FILTER (WHERE
	// x >= <its value> AND <a guess about that row>)).
	literalCols map[string]bool
	picks       []pickUse
	// filterCols collects, while an aggregate's FILTER is analysed, the
	// columns it compares with a literal (a threshold there restricts
	// only that aggregate's rows).
	filterCols map[string]bool
	// lateral: analysing a LATERAL subquery (depth).
	lateral int
	// perPerson: the SELECT being analysed groups by a person's id (an
	// entity key), so each of its rows is one person's.
	perPerson bool
	// perKey: the SELECT being analysed makes one row per id (GROUP BY
	// an id, or a LATERAL subquery correlated by an id), so that a time it
	// picks is that id's, not one row of many.
	perKey bool
	// groupedRels are the relations of the SELECT being analysed whose
	// person is a group key: a value picked from their rows is that
	// person's.
	groupedRels map[*rel]bool
}

// pickUse is an aggregate that returns one row's value, and the column it
// picks.
type pickUse struct {
	at     int32
	agg    string
	origin string
}

func (a *analyzer) hiddenName() string {
	a.hidden++
	return "__mg_e" + strconv.Itoa(a.hidden)
}

// ctx says where an expression is.
type ctx int

const (
	ctxValue     ctx = iota // select list, GROUP BY, CASE, function arguments
	ctxPredicate            // WHERE, JOIN … ON, HAVING, FILTER (WHERE …)
)

// selfAggregate marks aggregates of a SELECT's own rows, as aggSrc: they
// may not be combined with a subquery's aggregates either.
var selfAggregate = &rel{alias: "the query's own rows"}

// checkMixed refuses a value that combines the aggregates of two subqueries
// or CTE references: one can count everyone, the other everyone but one
// person, and their difference is that person.
func (a *analyzer) checkMixed(loc int32, inf info) {
	if inf.mixed {
		a.c.add(loc, RuleEntity,
			"this combines the aggregates of two subqueries or CTEs in one value: if one counts everyone and the other everyone but one person, the difference is that person; output them as separate columns and combine them in the warehouse")
	}
}

// rankValue refuses computing with a window function's value (a rank or
// running count): with the ranks ordered by id, sum(x * 10^(rank*10)) puts
// every person's x in digits of their own. Ranks may be compared (rn = 1)
// and grouped by.
func (a *analyzer) rankValue(loc int32, inf info, where string) {
	if inf.rank {
		a.c.add(loc, RuleWindow,
			"a window function's value (a rank) is used in %s: computed with, it can place each person's value in digits of its own; compare it with a literal (rn = 1) in WHERE instead",
			where)
	}
}

// narrowValue refuses a narrow value (see info.narrow) where a value is
// computed from it.
func (a *analyzer) narrowValue(loc int32, inf info, where string) {
	if inf.narrow {
		a.c.add(loc, RuleEntity,
			"a condition that compares an id, a text or red column or a rank with a literal is used in %s: it can single one person or row out of a group, whose value would then leave; use it in WHERE, JOIN … ON, FILTER (WHERE …) or HAVING, where metricgate counts the people it leaves",
			where)
	}
}

// restrictedUse reports a key, text or red column used where only
// comparisons or counts are allowed.
func (a *analyzer) restrictedUse(loc int32, inf info, where string) {
	switch inf.class {
	case schema.Key:
		a.c.add(loc, RuleKeyColumn,
			"%s is an id (class key in the schema catalog) used in %s: ids may be joined, compared in WHERE/ON/FILTER/HAVING and counted (count(DISTINCT …)), not output, grouped by or computed with",
			inf.origin, where)
	case schema.Text:
		a.c.add(loc, RuleRedColumn,
			"%s is free text (class text in the schema catalog) used in %s: it may only be counted, compared with a literal (=, <>, IN, LIKE) or joined by equality in WHERE/ON/FILTER/HAVING",
			inf.origin, where)
	case schema.Red:
		a.c.add(loc, RuleRedColumn,
			"%s is red (personal data or a secret, class red in the schema catalog) used in %s: it may only be counted, compared with a literal (=, <>, IN, LIKE) or joined by equality in WHERE/ON/FILTER/HAVING",
			inf.origin, where)
	}
}

// expr analyses an expression in scope s.
func (a *analyzer) expr(n *pg.Node, s *nscope, cx ctx) info {
	if n == nil {
		return info{}
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		r, ok := a.resolve(x.ColumnRef, s)
		if !ok {
			return info{}
		}
		if a.nonNull[r.rel][r.column] {
			r.info.notNull = true
		}
		r.info.single = r.info.bare || r.info.single
		r.info.onecol = r.info.bare || r.info.onecol
		r.info.catval = r.info.catval || r.info.bare && r.info.class == schema.Category
		if cx == ctxValue && (r.info.class == schema.Time || r.info.class == schema.Measure) && r.rel != nil && r.rel.table != nil && !hasPeople(r.rel) {
			// A value of a table without people, read: the row that
			// holds it may be one (a namespace joined by a key that is
			// the same in every row: its creation time is its owner's
			// sign-up), so its rows are counted by id like people.
			if cl, ok := r.rel.table.Column("id"); ok && cl == schema.Key {
				a.countPicked(r.rel)
			}
		}
		if r.info.condAgg {
			a.c.add(x.ColumnRef.Location, RuleEntity,
				"%s is a subquery's aggregate over the rows a condition picks (FILTER, CASE WHEN), in a subquery whose rows are not one person each: it can be one person's value while metricgate counts everyone behind the row; aggregate with FILTER in the top-level SELECT, or group the subquery by the person's id",
				strings.Join(refNames(x.ColumnRef), "."))
			r.info.condAgg = false // reported once
		}
		return r.info
	case *pg.Node_AConst:
		// A float constant has a point or an exponent; pg_query gives a
		// whole number too large for int4 as one too (an int8).
		f := x.AConst.GetFval()
		return info{notNull: !x.AConst.Isnull, fractional: f != nil && strings.ContainsAny(f.Fval, ".eE")}
	case *pg.Node_SqlvalueFunction:
		return info{notNull: true}
	case *pg.Node_TypeCast:
		inf := a.expr(x.TypeCast.Arg, s, ctxValue)
		if restricted(inf.class) {
			a.restrictedUse(x.TypeCast.Location, inf, "a cast")
			return info{}
		}
		a.narrowValue(x.TypeCast.Location, inf, "a cast")
		out := info{class: inf.class, origin: inf.origin, rawTime: inf.rawTime, agg: inf.agg, notNull: inf.notNull, rank: inf.rank,
			nonlinear: inf.nonlinear, stepped: inf.stepped, single: inf.single, onecol: inf.onecol, catval: inf.catval,
			duration: inf.duration, fractional: inf.fractional, picked: inf.picked, classes: inf.classes}
		if tn := x.TypeCast.TypeName; tn != nil && len(tn.Names) > 0 {
			t := strings.ToLower(str(tn.Names[len(tn.Names)-1]))
			if t == "date" {
				out.rawTime = false
			}
			out.fractional = fractionalTypes[t] || inf.fractional && !roundingCasts[t]
			switch {
			case !rowDependent(inf) || isCondition(x.TypeCast.Arg):
				// A constant, or a condition's truth as a number.
			case t == "bool" || t == "boolean":
				out.nonlinear = true // x::boolean is the condition x <> 0
			case t == "bit" || t == "varbit":
				out.nonlinear = true // x::bit(n) keeps x mod 2^n: a bit of one row's value
			case exactCasts[t] && len(tn.Typmods) == 0 && len(tn.ArrayBounds) == 0:
				// numeric, timestamp, text without a precision: the value
				// as it is.
			case !roundingCasts[t] || len(tn.Typmods) > 0:
				// numeric(p, s), money, real, float, char(n), time,
				// timestamp(0), interval fields: a rounding or truncation
				// at points of its own, (z + 0.5)::numeric(40, 0) minus
				// (z - 0.5)::numeric(40, 0) is 1 at one value of z.
				out.nonlinear = true
			case roundingCasts[t]:
				if inf.single || inf.stepped {
					out.stepped = true
				} else {
					out.nonlinear = true // (x - c)::int steps at a point of the author's choosing
				}
			}
		}
		return out
	case *pg.Node_AExpr:
		return a.aexpr(x.AExpr, s, cx)
	case *pg.Node_BoolExpr:
		out := info{}
		for _, arg := range x.BoolExpr.Args {
			inf := a.expr(arg, s, cx)
			if (inf.narrow || inf.fine) && x.BoolExpr.Boolop != pg.BoolExprType_AND_EXPR {
				a.c.add(nodeLocation(arg), RuleEntity,
					"a condition that compares an id, a text or red column, a rank or a time to the second with a literal is under %s: '<many> OR <one person>' against '<many>', or 'NOT <one person>' against everyone, tells that person's value; such a condition must stand on its own, AND-ed with the rest",
					strings.TrimSuffix(x.BoolExpr.Boolop.String(), "_EXPR"))
			}
			out = combine(out, inf)
		}
		if x.BoolExpr.Boolop != pg.BoolExprType_AND_EXPR && cx == ctxPredicate && a.role != roleSublink && len(a.relsOf(n, s)) > 1 {
			a.c.add(x.BoolExpr.Location, RuleEntity,
				"%s across two tables of a join gives some rows more partners than others: ON g.n = 1 OR u.admin copies the admins' rows, and a sum weighs them twice; write each table's condition on its own, AND-ed, or count with FILTER",
				strings.TrimSuffix(x.BoolExpr.Boolop.String(), "_EXPR"))
		}
		out.bare, out.rawTime = false, false
		out.nonlinear = out.nonlinear || a.condition(out)
		if rank(out.class) < rank(schema.Category) {
			out.class = schema.Category
		}
		return out
	case *pg.Node_NullTest:
		inf := a.expr(x.NullTest.Arg, s, cx)
		a.pickyOperand(x.NullTest.Location, inf, "IS NULL")
		if cx == ctxValue && inf.class.Sensitive() {
			a.restrictedUse(x.NullTest.Location, inf, "IS NULL outside WHERE/ON/FILTER/HAVING")
		}
		return info{class: schema.Category, agg: inf.agg, narrow: inf.narrow, nonlinear: inf.nonlinear || a.condition(inf)}
	case *pg.Node_BooleanTest:
		inf := a.expr(x.BooleanTest.Arg, s, cx)
		if x.BooleanTest.Booltesttype != pg.BoolTestType_IS_TRUE {
			a.pickyOperand(x.BooleanTest.Location, inf, strings.ReplaceAll(strings.ToLower(x.BooleanTest.Booltesttype.String()), "_", " "))
		}
		return info{class: maxClass(inf.class, schema.Category), agg: inf.agg, narrow: inf.narrow, fine: inf.fine, nonlinear: inf.nonlinear || a.condition(inf)}
	case *pg.Node_CaseExpr:
		ce := x.CaseExpr
		out := info{}
		onecol := true // each row gives one column's value, or a constant
		if cx == ctxPredicate && a.role != roleSublink && len(a.relsOf(n, s)) > 1 {
			a.c.add(ce.Location, RuleEntity,
				"a CASE across two tables of a join, as a condition, can give some rows more partners than others (CASE WHEN u.admin THEN true ELSE g.n = 1 END copies the admins' rows); write each table's condition on its own, AND-ed")
		}
		if ce.Arg != nil {
			inf := a.expr(ce.Arg, s, ctxValue)
			if restricted(inf.class) {
				a.restrictedUse(ce.Location, inf, "CASE")
			}
			a.narrowValue(ce.Location, inf, "CASE")
			inf.catval = false // CASE x WHEN c: a condition, counted on each side
			out = combine(out, inf)
			out.nonlinear = out.nonlinear || a.condition(inf)
			out.stepped = false
		}
		for _, w := range ce.Args {
			cw := w.GetCaseWhen()
			if cw == nil {
				continue
			}
			cond := a.expr(cw.Expr, s, ctxValue)
			a.narrowValue(nodeLocation(cw.Expr), cond, "CASE WHEN")
			out = combine(out, info{class: cond.class, agg: cond.agg})
			out.nonlinear = out.nonlinear || a.condition(cond)
			res := a.valueOperand(cw.Result, s, "CASE")
			onecol = onecol && (!rowDependent(res) || res.onecol)
			out = combine(out, res)
		}
		if ce.Defresult != nil {
			d := a.valueOperand(ce.Defresult, s, "CASE")
			out = combine(out, d)
			onecol = onecol && (!rowDependent(d) || d.onecol)
		}
		out.bare, out.onecol = false, onecol
		return out
	case *pg.Node_CoalesceExpr:
		out := info{}
		dependent, onecol := 0, true
		for _, arg := range x.CoalesceExpr.Args {
			inf := a.valueOperand(arg, s, "coalesce()")
			if rowDependent(inf) {
				dependent++
				onecol = onecol && inf.onecol
			}
			out = combine(out, inf)
		}
		if dependent > 1 { // which column's value a row gives is a condition
			out.nonlinear = out.nonlinear || a.condition(out)
		}
		out.onecol = onecol && dependent <= 1 && !out.nonlinear
		return out
	case *pg.Node_MinMaxExpr:
		out := info{}
		for _, arg := range x.MinMaxExpr.Args {
			out = combine(out, a.valueOperand(arg, s, "greatest()/least()"))
		}
		out.nonlinear = out.nonlinear || rowDependent(out) // greatest(x - c, 0) is a hinge at c
		return out
	case *pg.Node_NullIfExpr:
		out := info{}
		for _, arg := range x.NullIfExpr.Args {
			out = combine(out, a.valueOperand(arg, s, "nullif()"))
		}
		out.nonlinear = out.nonlinear || rowDependent(out)
		return out
	case *pg.Node_FuncCall:
		return a.funcCall(x.FuncCall, s, cx)
	case *pg.Node_SubLink:
		saved := a.aggArg
		a.aggArg = false
		inf := a.sublink(x.SubLink, s, cx)
		a.aggArg = saved
		if x.SubLink.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
			inf.nonlinear = true // a subquery's value per row: (SELECT x WHERE t = c) is x for one row only
		} else {
			inf.nonlinear = a.condition(info{class: schema.Category})
		}
		inf.stepped, inf.single = false, false
		return inf
	case *pg.Node_AArrayExpr:
		out := info{}
		for _, e := range x.AArrayExpr.Elements {
			inf := a.expr(e, s, cx)
			a.pickyOperand(x.AArrayExpr.Location, inf, "ARRAY[…]")
			if inf.class.Sensitive() {
				a.restrictedUse(x.AArrayExpr.Location, inf, "ARRAY[…]")
			}
			out = combine(out, inf)
		}
		return out
	case *pg.Node_RowExpr:
		out := info{}
		for _, e := range x.RowExpr.Args {
			inf := a.expr(e, s, cx)
			if restricted(inf.class) {
				a.restrictedUse(x.RowExpr.Location, inf, "ROW(…)")
			}
			out = combine(out, inf)
		}
		return out
	case *pg.Node_AIndirection:
		inf := a.expr(x.AIndirection.Arg, s, ctxValue)
		for _, ind := range x.AIndirection.Indirection {
			if ind.GetString_() != nil || ind.GetAStar() != nil {
				a.c.add(nodeLocation(x.AIndirection.Arg), RuleWholeRow, "field selection (x).field reads a whole row or a composite value; name the column instead")
				return info{}
			}
			if ai := ind.GetAIndices(); ai != nil {
				for _, idx := range []info{a.expr(ai.Lidx, s, ctxValue), a.expr(ai.Uidx, s, ctxValue)} {
					if rowDependent(idx) {
						// (ARRAY[2, …, 1, …, 2])[extract(day FROM t)::int] is
						// a lookup table: 1 for one day, and (ARRAY[u.x,
						// 0])[that] one row's x, a CASE nobody counts.
						inf.nonlinear = true
						inf.stepped, inf.single, inf.onecol = false, false, false
						if inf.class == "" {
							inf.class = idx.class // a constant array read by the row: the row's value
						}
					}
				}
			}
		}
		if inf.class.Sensitive() {
			a.restrictedUse(nodeLocation(x.AIndirection.Arg), inf, "a subscript")
			return info{}
		}
		inf.bare = false
		return inf
	case *pg.Node_CollateClause:
		inf := a.expr(x.CollateClause.Arg, s, cx)
		if inf.class.Sensitive() {
			a.restrictedUse(x.CollateClause.Location, inf, "COLLATE")
		}
		inf.bare = false
		return inf
	case *pg.Node_ResTarget:
		return a.expr(x.ResTarget.Val, s, cx)
	}
	// Anything else: its parts, none of them restricted.
	out := info{}
	children(inner(n), func(ch *pg.Node) {
		inf := a.expr(ch, s, ctxValue)
		if restricted(inf.class) {
			a.restrictedUse(nodeLocation(n), inf, "an expression")
		}
		out = combine(out, inf)
	})
	out.bare = false
	out.nonlinear = out.nonlinear || rowDependent(out)
	return out
}

func maxClass(a, b schema.Class) schema.Class {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// valueOperand analyses an operand that becomes part of a computed value:
// restricted classes are refused.
func (a *analyzer) valueOperand(n *pg.Node, s *nscope, where string) info {
	inf := a.expr(n, s, ctxValue)
	if restricted(inf.class) {
		a.restrictedUse(nodeLocation(n), inf, where)
		return info{agg: inf.agg}
	}
	a.narrowValue(nodeLocation(n), inf, where)
	a.rankValue(nodeLocation(n), inf, where)
	inf.bare = false
	return inf
}

var comparisonOps = set("=", "<>", "!=", "<", ">", "<=", ">=")

// negativeOps compare for inequality: with a literal, they select
// "everyone but".
var negativeOps = set("<>", "!=", "!~~", "!~~*")

// literalOps may compare a text or red column with a literal.
var literalOps = set("=", "<>", "!=", "~~", "~~*", "!~~", "!~~*")

func isLiteral(n *pg.Node) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_AConst:
		return true
	case *pg.Node_TypeCast:
		return isLiteral(x.TypeCast.Arg)
	case *pg.Node_List:
		for _, it := range x.List.Items {
			if !isLiteral(it) {
				return false
			}
		}
		return true
	}
	return false
}

func (a *analyzer) aexpr(e *pg.A_Expr, s *nscope, cx ctx) info {
	op := ""
	if len(e.Name) > 0 {
		op = str(e.Name[len(e.Name)-1])
	}
	var lexpr, rexpr info
	if e.Lexpr != nil {
		lexpr = a.expr(e.Lexpr, s, cx)
	}
	if e.Rexpr != nil {
		if l := e.Rexpr.GetList(); l != nil {
			for _, it := range l.Items {
				rexpr = combine(rexpr, a.expr(it, s, cx))
			}
			rexpr.bare = false
		} else {
			rexpr = a.expr(e.Rexpr, s, cx)
		}
	}
	if (e.Kind == pg.A_Expr_Kind_AEXPR_OP && regexOps[op]) || e.Kind == pg.A_Expr_Kind_AEXPR_SIMILAR {
		pat := e.Rexpr
		if fc := pat.GetFuncCall(); fc != nil && e.Kind == pg.A_Expr_Kind_AEXPR_SIMILAR && len(fc.Args) > 0 {
			pat = fc.Args[0] // similar_to_escape(pattern)
		}
		a.checkPattern(pat, e.Location)
	}
	comparison := false
	switch e.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		comparison = comparisonOps[op] || e.Lexpr != nil && (op == "~~" || op == "~~*" || op == "!~~" || op == "!~~*")
	case pg.A_Expr_Kind_AEXPR_IN, pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE,
		pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, pg.A_Expr_Kind_AEXPR_OP_ANY,
		pg.A_Expr_Kind_AEXPR_OP_ALL, pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_SIMILAR:
		comparison = true
	}
	agg := lexpr.agg || rexpr.agg
	if !comparison {
		// Arithmetic, concatenation, JSON access, regular expressions:
		// computed values.
		for _, side := range []info{lexpr, rexpr} {
			if restricted(side.class) {
				a.restrictedUse(e.Location, side, "operator "+op)
				return info{agg: agg}
			}
			a.narrowValue(e.Location, side, "operator "+op)
			a.rankValue(e.Location, side, "operator "+op)
		}
		if op == "^" && !isConst(e.Rexpr) {
			a.c.add(e.Location, RuleFunction, "^ with an exponent from the data is refused: summed, values scaled by powers of a per-row number sit in digits of their own, one row each; use a literal exponent")
		}
		out := combine(lexpr, rexpr)
		a.checkMixed(e.Location, out)
		out.bare = false
		out.nonlinear, out.stepped = arithmetic(e, op, lexpr, rexpr)
		out.scale = scaled(e, op, lexpr, rexpr)
		if out.scale > maxScale || out.scale > 0 && out.scale < minScale {
			out.nonlinear = true // values packed at scales of their own
		}
		out.duration = false
		if lexpr.class == schema.Time && rexpr.class == schema.Time && op == "-" && lexpr.stepped == rexpr.stepped && !out.nonlinear &&
			a.durationRels(e, s) {
			out.class, out.rawTime, out.duration = schema.Measure, false, true
			out.picked = false // a duration to another row's time: see durationRels
		}
		lc, rc := !rowDependent(lexpr), !rowDependent(rexpr)
		switch {
		case e.Kind != pg.A_Expr_Kind_AEXPR_OP:
		case op == "+" || op == "-" || op == "*" || op == "/":
			out.onecol = lexpr.onecol && rc || rexpr.onecol && lc && op != "/" || out.duration
			out.duration = out.duration || (lexpr.duration && rc) || (rexpr.duration && lc)
		}
		out.notNull = lexpr.notNull && rexpr.notNull && e.Kind == pg.A_Expr_Kind_AEXPR_OP
		return out
	}
	// A comparison.
	for _, side := range []info{lexpr, rexpr} {
		a.pickyOperand(e.Location, side, "a comparison ("+op+")")
	}
	if cx == ctxPredicate && a.role != roleSublink { // a semi-join (EXISTS, IN) copies no row
		a.checkCrossComparison(e, op, lexpr, rexpr, s)
	}
	constant := func(i info, n *pg.Node) bool {
		return n != nil && (isLiteral(n) || i.class == "" && !i.bare && i.rel == nil)
	}
	narrow := lexpr.narrow || rexpr.narrow
	fine := false
	for i, side := range []info{lexpr, rexpr} {
		otherNode, other := e.Rexpr, rexpr
		if i == 1 {
			otherNode, other = e.Lexpr, lexpr
		}
		if side.class == schema.Time && side.rawTime && constant(other, otherNode) && finerThanDay(otherNode) {
			fine = true
		}
	}
	a.checkMixed(e.Location, combine(lexpr, rexpr))
	for i, side := range []info{lexpr, rexpr} {
		otherNode, other := e.Rexpr, rexpr
		if i == 1 {
			otherNode, other = e.Lexpr, lexpr
		}
		// A column compared with a literal, or with anything but another
		// table's column (a function's series, g.g = u.x; a value computed
		// from it, least(u.x, 204) = u.x), is held to a threshold: a pick
		// of it is refused (checkPicks).
		if side.origin != "" && rowDependent(side) && (constant(other, otherNode) || !baseColumn(other)) {
			a.threshold(side.origin, cx)
		}
	}
	for i, side := range []info{lexpr, rexpr} {
		otherNode, other := e.Rexpr, rexpr
		if i == 1 {
			otherNode, other = e.Lexpr, lexpr
		}
		if (restricted(side.class) || side.rank) && constant(other, otherNode) {
			narrow = true
			a.narrowSeen++
			if negativeOps[op] || e.Kind == pg.A_Expr_Kind_AEXPR_DISTINCT {
				a.c.add(e.Location, RuleEntity,
					"%s is compared with %s a literal: 'everyone but' a few people, next to 'everyone', tells those few; single people out only positively (=, IN, LIKE), AND-ed with the rest",
					side.origin, op)
			}
			if r := side.rel; r != nil && r.table != nil && !hasPeople(r) {
				if cl, ok := r.table.Column("id"); ok && cl == schema.Key && !side.class.Sensitive() {
					// Rows of a table without people picked by a literal
					// (ns.traversal_ids[1] = 9970): count them like people,
					// so that one picked row's values never leave alone.
					a.countPicked(r)
				} else {
					a.c.add(e.Location, RuleEntity,
						"%s is compared with a literal, but %s has no people behind its rows for metricgate to count: one row of it would be picked out, and its values read; compare ids of the tables with people (i.project_id = …) or categories instead",
						side.origin, r.table.Name)
				}
			}
		}
		// A measure or time of a table without people compared with a
		// literal can hold it to one row (p.star_count = 296) whose values
		// then stand in a duration or a join: count its rows like people.
		if (side.class == schema.Measure || side.class == schema.Time) && constant(other, otherNode) {
			if r := side.rel; r != nil && r.table != nil && !hasPeople(r) {
				if cl, ok := r.table.Column("id"); ok && cl == schema.Key {
					a.countPicked(r)
				}
			}
		}
		if a.outerOn && side.class != "" && side.class != schema.Category && constant(other, otherNode) {
			a.c.add(e.Location, RuleEntity,
				"%s is compared with a literal in the ON of an outer join: that decides which rows get the joined side's values, and could pick one person's row as a CASE WHEN would; compare it in WHERE, or count with FILTER (WHERE …)",
				side.origin)
		}
		if side.person && side.rel != nil && side.rel.table != nil && !slices.Contains(side.rel.table.Entity, side.col) {
			a.countPeople(side.rel, side.col) // a person it selects by must be counted too
		}
	}
	if cx != ctxPredicate {
		for _, side := range []info{lexpr, rexpr} {
			if restricted(side.class) {
				a.restrictedUse(e.Location, side, "a comparison outside WHERE/ON/FILTER/HAVING (CASE WHEN, select list, GROUP BY)")
				return info{class: schema.Category, agg: agg}
			}
		}
		return info{class: schema.Category, agg: agg, narrow: narrow, fine: fine, nonlinear: a.condition(combine(lexpr, rexpr))}
	}
	for i, side := range []info{lexpr, rexpr} {
		other := rexpr
		if i == 1 {
			other = lexpr
		}
		if side.person && !(e.Kind == pg.A_Expr_Kind_AEXPR_OP && other.bare && other.class == schema.Key) {
			a.c.add(e.Location, RuleKeyColumn,
				"%s identifies a person: compare it only with another id column (a join), never with a literal, a list or an expression, which would single a person out; join users and filter on its categories (user_type, state) instead",
				side.origin)
			return info{class: schema.Category, agg: agg}
		}
	}
	for i, side := range []info{lexpr, rexpr} {
		if !side.class.Sensitive() {
			continue
		}
		other, otherNode := rexpr, e.Rexpr
		if i == 1 {
			other, otherNode = lexpr, e.Lexpr
		}
		okOp := literalOps[op] || e.Kind == pg.A_Expr_Kind_AEXPR_IN || e.Kind == pg.A_Expr_Kind_AEXPR_LIKE ||
			e.Kind == pg.A_Expr_Kind_AEXPR_ILIKE
		switch {
		case !side.bare:
			a.restrictedUse(e.Location, side, "an expression")
		case !okOp:
			a.restrictedUse(e.Location, side, "comparison "+op)
		case isLiteral(otherNode) && personTable(side) && !wildcardPattern(e, otherNode):
			a.c.add(e.Location, RuleEntity,
				"%s is compared with a literal that names people one by one (=, IN, or a pattern without %% or _): next to the same list without one name, it tells that person's values; match a pattern (LIKE '%%@example.com') or a category (users.user_type, users.state) instead",
				side.origin)
		case isLiteral(otherNode):
		case (op == "=") && other.bare && other.class == side.class && e.Kind == pg.A_Expr_Kind_AEXPR_OP:
		default:
			a.restrictedUse(e.Location, side, "a comparison with something other than a literal or a column of the same class")
		}
		return info{class: schema.Category, agg: agg, narrow: narrow, fine: fine}
	}
	return info{class: schema.Category, agg: agg, narrow: narrow, fine: fine}
}

// ownRows reports whether the aggregate f reads only rows of the person
// the SELECT groups by: every relation its arguments read has that
// person as a group key (GROUP BY n.author_id, max(n.created_at)). A
// pick from a joined table of other people (max(u.sign_in_count) of the
// issue authors a commenter answered) is not the grouped person's.
func (a *analyzer) ownRows(f *pg.FuncCall, s *nscope) bool {
	var args []*pg.Node
	args = append(args, f.Args...)
	for _, o := range f.AggOrder {
		if sb := o.GetSortBy(); sb != nil {
			args = append(args, sb.Node)
		}
	}
	var rels []*rel
	for _, arg := range args {
		rels = append(rels, a.relsOf(arg, s)...)
	}
	if len(args) == 0 {
		rels = s.rels // count(*): the rows of every table read
	}
	for _, r := range rels {
		if !a.groupedRels[r] {
			return false
		}
	}
	return len(rels) > 0
}

// andConjuncts returns the conditions AND-ed in n (none for nil).
func andConjuncts(n *pg.Node) []*pg.Node {
	if n == nil {
		return nil
	}
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
		var out []*pg.Node
		for _, arg := range b.Args {
			out = append(out, andConjuncts(arg)...)
		}
		return out
	}
	return []*pg.Node{n}
}

// pickedUse refuses a use of a value a subquery picked (info.picked).
func (a *analyzer) pickedUse(at int32, inf info, where string) {
	a.c.add(at, RulePick,
		"%s is one row's value that a subquery picked (min, max, a percentile) from rows of many people, and %s would publish it behind all of them (GROUP BY i.project_id: one issue's time behind every author of the project); use it in a duration (merged_at - s.first_at), count it, or group the subquery by a person's id (GROUP BY i.author_id)",
		cmp.Or(inf.origin, "this value"), where)
}

// peopleless reports whether the catalogued column origin belongs to a
// table that names no person (labels): its picked values are no one's.
func (a *analyzer) peopleless(origin string) bool {
	table, _, ok := strings.Cut(origin, ".")
	if !ok {
		return false
	}
	t := a.cat.Table(table)
	return t != nil && len(t.Entity) == 0 && t.Owner == nil && len(t.People) == 0
}

// threshold records that the column origin is compared with a threshold:
// in a FILTER (filterCols, the pick of that aggregate), or in a WHERE, ON
// or HAVING (literalCols, every pick of the query).
func (a *analyzer) threshold(origin string, cx ctx) {
	switch {
	case a.filterCols != nil:
		a.filterCols[origin] = true
	case cx == ctxPredicate:
		if a.literalCols == nil {
			a.literalCols = map[string]bool{}
		}
		a.literalCols[origin] = true
	}
}

// baseColumn reports whether i is a bare column of a catalogued table: a
// join or an order of two columns, not a threshold.
func baseColumn(i info) bool {
	return i.bare && i.rel != nil && i.rel.table != nil
}

// countPicked counts the rows of a table without people that a literal
// picks, by their id.
func (a *analyzer) countPicked(r *rel) {
	for _, c := range r.carriers {
		if c.picked {
			return
		}
	}
	r.carriers = append(r.carriers, carrier{expr: quoteIdent(r.alias) + ".id", rel: r, column: "id", picked: true,
		what: r.table.Name + ".id (rows picked by a literal)"})
	// The people those rows name (projects.creator_id) are counted too,
	// none or at least k: 23 projects that are all one creator's are that
	// person's (round 27).
	if len(r.table.People) > 0 && !slices.ContainsFunc(r.carriers, func(c carrier) bool { return c.zeroOK }) {
		var cols []string
		for _, p := range r.table.People {
			cols = append(cols, quoteIdent(r.alias)+"."+quoteIdent(p))
		}
		r.carriers = append(r.carriers, carrier{
			expr: "concat_ws(',', " + strings.Join(cols, ", ") + ")", list: true, zeroOK: true, picked: true,
			what: fmt.Sprintf("%s.%s (people named, none or at least k)", r.table.Name, strings.Join(r.table.People, ", ")),
		})
	}
}

// hasPeople reports whether a relation has people (or picked rows) to
// count.
func hasPeople(r *rel) bool {
	for _, c := range r.carriers {
		if !c.picked {
			return true
		}
	}
	return false
}

// countPeople makes a column that names a person, not the row's entity
// (merged_by_id), counted like an entity key of its relation once a
// predicate selects rows by it.
func (a *analyzer) countPeople(r *rel, col string) {
	for _, c := range r.carriers {
		if c.owner == "" && c.column == col {
			return
		}
	}
	r.carriers = append(r.carriers, carrier{expr: quoteIdent(r.alias) + "." + quoteIdent(col), rel: r, column: col,
		what: r.table.Name + "." + col})
}

// regexFunctions take a POSIX regular expression as their second argument.
var regexFunctions = set("regexp_count", "regexp_like", "regexp_replace", "regexp_substr", "substring")

// regexOps match a regular expression.
var regexOps = set("~", "~*", "!~", "!~*")

var backReference = regexp.MustCompile(`\\[1-9]|\\k`)

// MaxPattern is the longest regular expression a query may use.
const MaxPattern = 1000

// checkPattern refuses a regular expression that is not a literal, is
// longer than MaxPattern, or has a back-reference: PostgreSQL matches
// back-references by backtracking, in time exponential in the text, and
// statement_timeout is the only other bound.
func (a *analyzer) checkPattern(n *pg.Node, at int32) {
	lit := n.GetAConst().GetSval()
	if tc := n.GetTypeCast(); tc != nil {
		lit = tc.Arg.GetAConst().GetSval()
	}
	switch {
	case lit == nil:
		a.c.add(at, RuleRegex, "a regular expression must be a string literal, so that reviewers and metricgate can see it")
	case len(lit.Sval) > MaxPattern:
		a.c.add(at, RuleRegex, "a regular expression of %d characters; at most %d", len(lit.Sval), MaxPattern)
	case backReference.MatchString(lit.Sval):
		a.c.add(at, RuleRegex, "back-references (\\1, \\k<…>) make a regular expression take time exponential in the text it reads; match without them")
	}
}

// rankingWindows are the window functions whose value is a position, not
// another row's value.
var rankingWindows = set("row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile")

// funcCall analyses a function, aggregate or window call.
func (a *analyzer) funcCall(f *pg.FuncCall, s *nscope, cx ctx) info {
	name, _ := funcName(f)
	loc := f.Location
	if f.Over != nil {
		a.window(f.Over, s)
		if f.AggFilter != nil {
			a.c.add(loc, RuleWindow, "%s() FILTER (…) OVER (…) counts a subset of other rows, which may be a few people's; count with FILTER in the top-level SELECT, where each FILTERed aggregate is counted on its own", name)
		}
		for _, arg := range f.Args {
			if a.role != roleTop && (rankingWindows[name] || name == "count") && arg.GetColumnRef() == nil && !isConst(arg) {
				a.c.add(nodeLocation(arg), RuleWindow,
					"%s() OVER (…) takes a column or a constant, not an expression: count((SELECT 1 … WHERE <one person>)) OVER counts one person's rows where nobody counts them", name)
			}
		}
		switch {
		case rankingWindows[name]:
			for _, arg := range f.Args {
				a.valueOperand(arg, s, name+"()")
			}
			return info{class: schema.Measure, rank: true, notNull: true}
		case name == "count":
			if len(f.Args) > 0 && a.role != roleTop {
				a.c.add(loc, RuleWindow,
					"count(%s) OVER counts the partition's rows where it is not NULL, a condition nobody counts (an outer join can make it NULL for all but one person's rows); use count(*) OVER (PARTITION BY …), a partition's size", "…")
			}
			if len(f.Over.OrderClause) > 0 && a.role != roleTop {
				a.c.add(loc, RuleWindow,
					"count(…) OVER (ORDER BY …) is a running count: where it changes tells which row met its condition; count(…) OVER (PARTITION BY …) without ORDER BY, a partition's size, is allowed")
			}
			for _, arg := range f.Args {
				a.expr(arg, s, ctxValue)
			}
			// With an ORDER BY it is a running count, a rank; without, the
			// size of the partition, a measure.
			// A partition's size by columns is a group's count; by an
			// expression (PARTITION BY t = c) it is conditioned.
			argCond := false
			for _, arg := range f.Args {
				if inf := a.muted(func() info { return a.expr(arg, s, ctxValue) }); inf.nonlinear {
					argCond = true
				}
			}
			// Partitioned by an id (p.merge_request_id) it is that entity's
			// row count; by a category (PARTITION BY u.admin) it is how
			// many rows have that value, a count nobody counts people
			// for: min() or sum() of it over everyone tells the admins.
			byValue := slices.ContainsFunc(f.Over.PartitionClause, func(n *pg.Node) bool {
				inf := a.muted(func() info { return a.expr(n, s, ctxValue) })
				return n.GetColumnRef() == nil || !(inf.bare && inf.class == schema.Key)
			})
			return info{class: schema.Measure, rank: len(f.Over.OrderClause) > 0, notNull: true, onecol: true, condAgg: argCond || byValue,
				nonlinear: byValue}
		default:
			a.c.add(loc, RuleWindow, "window function %s() OVER (…) gives each row a value computed from other rows, which may be other people's; only ranking (row_number, rank, dense_rank, ntile, percent_rank, cume_dist) and count(…) OVER are allowed: aggregate in a subquery grouped by what you partition by instead", name)
			return info{}
		}
	}
	if isAggregateCall(f) {
		var filterCols map[string]bool
		if f.AggFilter != nil {
			saved := a.filterCols
			a.filterCols = map[string]bool{}
			a.expr(f.AggFilter, s, ctxPredicate)
			filterCols = a.filterCols
			a.filterCols = saved
			if a.role != roleTop {
				a.derivedFilter(f.AggFilter, s, name)
			}
		}
		savedArg, conds := a.aggArg, a.condSeen
		a.aggArg = true
		defer func() { a.aggArg = savedArg }()
		// conditioned: a subquery's aggregate over the rows a condition
		// picks (FILTER, CASE WHEN): metricgate counts the people of the
		// subquery's row, not of that condition's rows, so the value may
		// be one person's; it may be compared and grouped by further up,
		// not aggregated.
		conditioned := func() bool { return a.role != roleTop && (f.AggFilter != nil || a.condSeen > conds) }
		if name == "count" {
			src := selfAggregate
			for _, arg := range f.Args {
				inf := a.expr(arg, s, ctxValue)
				if inf.class.Sensitive() && !inf.bare {
					a.restrictedUse(nodeLocation(arg), inf, "count() of an expression")
				}
				if f.AggDistinct && rowDependent(inf) && (inf.class != schema.Key || inf.classes) {
					a.c.add(nodeLocation(arg), RuleArithmetic,
						"count(DISTINCT …) counts ids only: of %s it tells how many different values the rows hold, which one row's value changes (a new value, or two people sharing one); count ids (count(DISTINCT u.id)), or rows per value with GROUP BY",
						describeValue(inf))
				}
				a.checkAggArg(nodeLocation(arg), inf, name)
				src = cmp.Or(inf.aggSrc, src)
			}
			return info{class: schema.Measure, agg: true, notNull: true, aggSrc: src, nonlinear: conditioned(), onecol: true,
				condAgg: conditioned() && !a.ownRows(f, s)}
		}
		if f.AggDistinct && !collecting[name] {
			a.c.add(f.Location, RuleArithmetic,
				"%s(DISTINCT …) drops the rows whose value repeats another's, which tells whether one row's value equals another's; aggregate every row (DISTINCT is for count(DISTINCT <id>) only)", name)
		}
		out := info{agg: true}
		argsOnecol := true
		for _, arg := range f.Args {
			inf := a.expr(arg, s, ctxValue)
			a.checkAggArg(nodeLocation(arg), inf, name)
			if rowDependent(inf) && !inf.onecol {
				argsOnecol = false
			}
			if restricted(inf.class) {
				a.restrictedUse(nodeLocation(arg), inf, name+"()")
				continue
			}
			a.narrowValue(nodeLocation(arg), inf, name+"()")
			a.rankValue(nodeLocation(arg), inf, name+"()")
			out = combine(out, inf)
		}
		for _, o := range f.AggOrder {
			if sb := o.GetSortBy(); sb != nil {
				inf := a.expr(sb.Node, s, ctxValue)
				a.checkAggArg(nodeLocation(sb.Node), inf, name)
				if restricted(inf.class) {
					a.restrictedUse(nodeLocation(sb.Node), inf, name+"() WITHIN GROUP")
					continue
				}
				a.narrowValue(nodeLocation(sb.Node), inf, name+"() WITHIN GROUP")
				a.rankValue(nodeLocation(sb.Node), inf, name+"() WITHIN GROUP")
				out = combine(out, inf)
			}
		}
		if pickAggregates[name] {
			a.checkPick(f, name, s, filterCols)
		} else if out.catval && boolAggregates[name] {
			a.c.add(nodeLocation(f.Args[0]), RuleArithmetic,
				"%s() of a category's value (bool_or(u.admin)) tells whether any one row has it, a FILTER nobody counts: write the condition out (bool_or(u.admin = true)) or count(*) FILTER (WHERE …), where metricgate counts the people on each side", name)
		} else if out.catval && !boolAggregates[name] && !collecting[name] {
			a.c.add(nodeLocation(f.Args[0]), RuleArithmetic,
				"%s() of a category's value (sum(admin::int), avg(visibility_level)) counts the rows of each category, a FILTER nobody counts: count them with count(*) FILTER (WHERE …), where metricgate counts the people on each side", name)
		}
		out.narrow = false // the argument's narrowness was refused above
		if out.aggSrc == nil {
			out.aggSrc = selfAggregate // an aggregate of this SELECT's own rows
		}
		out.bare, out.agg = false, true
		out.nonlinear, out.stepped, out.single = conditioned(), false, false
		out.condAgg = conditioned() && !a.ownRows(f, s)
		// An aggregate is one value when its argument is one column:
		// sum(created_at * 1e9 + x) of one person's rows is still packed.
		out.onecol = argsOnecol
		switch name {
		case "min", "max", "percentile_disc", "mode":
			// One row's value: keeps its class (a timestamp stays raw).
		default:
			out.class, out.rawTime = schema.Measure, false
		}
		out.picked = pickAggregates[name] && out.class != "" && a.role != roleTop && !a.ownRows(f, s) && !a.peopleless(out.origin)
		return out
	}
	if (name == "power" || name == "pow") && len(f.Args) == 2 && !isConst(f.Args[1]) || name == "exp" && len(f.Args) == 1 && !isConst(f.Args[0]) {
		a.c.add(loc, RuleFunction, "%s() with an exponent from the data is refused: summed, values scaled by powers of a per-row number sit in digits of their own, one row each; use a literal exponent", name)
	}
	if regexFunctions[name] && len(f.Args) >= 2 && (name != "substring" || len(f.Args) == 2) {
		a.checkPattern(f.Args[1], f.Location)
	}
	if (name == "cardinality" || name == "array_length" || name == "array_ndims") && len(f.Args) > 0 {
		inf := a.expr(f.Args[0], s, ctxValue)
		if inf.class == schema.Key {
			for _, arg := range f.Args[1:] {
				a.valueOperand(arg, s, name+"()")
			}
			return info{class: schema.Measure} // how many ids, not which
		}
	}
	out := info{}
	args := make([]info, len(f.Args))
	for i, arg := range f.Args {
		var inf info
		if name == "unnest" && i == 0 {
			inf = a.expr(arg, s, ctxValue)
			if inf.class.Sensitive() {
				a.restrictedUse(nodeLocation(arg), inf, name+"()")
			}
			out = combine(out, inf)
			args[i] = inf
			continue
		}
		inf = a.valueOperand(arg, s, name+"()")
		args[i] = inf
		out = combine(out, inf)
	}
	out.bare = false
	if notNullFunctions[name] {
		out.notNull = true
		for _, arg := range f.Args {
			if !a.muted(func() info { return a.expr(arg, s, ctxValue) }).notNull {
				out.notNull = false
			}
		}
	}
	for i, inf := range args {
		if inf.picked && name != "timezone" {
			a.pickedUse(nodeLocation(f.Args[i]), inf, name+"()")
		}
	}
	out.nonlinear, out.stepped, out.single = functionShape(f, name, args)
	out.fractional = name == "extract" || name == "date_part" // numeric
	if len(args) > 0 && !out.nonlinear && (name == "extract" || name == "date_part" || name == "date_trunc" || name == "timezone") {
		out.onecol = args[len(args)-1].onecol
	}
	if (name == "extract" || name == "date_part") && len(args) == 2 && strings.EqualFold(constString(f.Args[0]), "epoch") {
		out.duration = args[1].duration // the seconds of a duration
	}
	coarse := len(f.Args) > 0 && coarseUnits[strings.ToLower(constString(f.Args[0]))]
	switch name {
	case "date_trunc":
		out.class, out.rawTime = schema.Time, out.rawTime && !coarse
	case "extract", "date_part":
		if out.class == schema.Time {
			out.rawTime = !coarse // extract(epoch FROM t) is t, to the microsecond
		}
		if !out.rawTime {
			out.class = schema.Measure
		}
	case "now", "statement_timestamp", "transaction_timestamp":
		return info{}
	}
	return out
}

// coarseUnits are the date_trunc units and extract fields that group a
// timestamp coarsely enough to be a group key: an hour or more, or a part
// of the calendar. epoch, second, milliseconds, microseconds and minute
// are (nearly) the instant itself.
var coarseUnits = set("hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium",
	"dow", "isodow", "doy", "isoyear", "julian")

// constString returns the text of a string literal (through casts), or "".
func constString(n *pg.Node) string {
	switch x := n.GetNode().(type) {
	case *pg.Node_AConst:
		if sv := x.AConst.GetSval(); sv != nil {
			return sv.Sval
		}
	case *pg.Node_TypeCast:
		return constString(x.TypeCast.Arg)
	}
	return ""
}

// derivedFilter refuses, in the FILTER of an aggregate below the top
// level, ids, text and red columns and subqueries: metricgate counts the
// people behind a subquery's row, not behind each of its aggregates, so a
// FILTER there must not single anyone out (at the top level, each FILTERed
// aggregate is a cell counted on its own).
func (a *analyzer) derivedFilter(n *pg.Node, s *nscope, agg string) {
	if n == nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if r, ok := a.resolveQuiet(x.ColumnRef, s); ok && restricted(r.info.class) {
			a.c.add(x.ColumnRef.Location, RuleEntity,
				"%s() FILTER (WHERE …) in a subquery or CTE reads %s (class %s), which could single out one person's rows inside a group metricgate counts as a whole: filter in WHERE, or aggregate with FILTER in the top-level SELECT, where each FILTERed aggregate is counted on its own",
				agg, r.info.origin, r.info.class)
		}
		return
	case *pg.Node_SubLink:
		a.c.add(x.SubLink.Location, RuleEntity,
			"%s() FILTER (WHERE …) in a subquery or CTE may not contain a subquery: filter in WHERE, or aggregate with FILTER in the top-level SELECT", agg)
		return
	}
	children(inner(n), func(ch *pg.Node) { a.derivedFilter(ch, s, agg) })
}

// notNullFunctions return a value when their arguments have one.
var notNullFunctions = set("abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "greatest", "least")

// muted runs fn without reporting problems (they are reported where the
// expression itself is analysed).
func (a *analyzer) muted(fn func() info) info {
	was := a.c.mute
	a.c.mute = true
	defer func() { a.c.mute = was }()
	return fn()
}

// window checks PARTITION BY and ORDER BY of a window.
func (a *analyzer) window(w *pg.WindowDef, s *nscope) {
	if w.FrameOptions&frameRows != 0 || w.FrameOptions&frameGroups != 0 || w.StartOffset != nil || w.EndOffset != nil {
		a.c.add(w.Location, RuleWindow,
			"a window frame (ROWS/RANGE/GROUPS BETWEEN …) counts a stretch of rows next to each row: ROWS BETWEEN UNBOUNDED PRECEDING AND 9 PRECEDING tells, by where a count changes, which row met a condition; use the whole partition")
	}
	bareOnly := func(n *pg.Node, where string) {
		if n.GetColumnRef() == nil {
			a.c.add(nodeLocation(n), RuleWindow,
				"%s of a window takes columns only, not expressions: an expression there can single out rows (PARTITION BY t = c)", where)
			return
		}
		if r, ok := a.resolveQuiet(n.GetColumnRef(), s); ok && r.info.person && r.rel != nil && r.rel.table != nil && !slices.Contains(r.rel.table.Entity, r.column) {
			a.countPeople(r.rel, r.column) // per closer, per merger: count them too
		}
	}
	for _, p := range w.PartitionClause {
		if a.role != roleTop {
			bareOnly(p, "PARTITION BY")
		}
	}
	for _, o := range w.OrderClause {
		if sb := o.GetSortBy(); sb != nil && a.role != roleTop {
			bareOnly(sb.Node, "ORDER BY")
		}
	}
	for _, p := range w.PartitionClause {
		inf := a.expr(p, s, ctxValue)
		a.narrowValue(nodeLocation(p), inf, "PARTITION BY")
		if inf.class.Sensitive() {
			a.restrictedUse(nodeLocation(p), inf, "PARTITION BY")
		} else if inf.class == schema.Key && !inf.bare {
			a.restrictedUse(nodeLocation(p), inf, "PARTITION BY")
		}
	}
	a.orderBy(w.OrderClause, s, "a window's ORDER BY")
}

func (a *analyzer) orderBy(sorts []*pg.Node, s *nscope, where string) {
	for _, o := range sorts {
		sb := o.GetSortBy()
		if sb == nil {
			continue
		}
		inf := a.expr(sb.Node, s, ctxValue)
		if inf.class.Sensitive() || (inf.class == schema.Key && !inf.bare) {
			a.restrictedUse(nodeLocation(sb.Node), inf, where)
		}
		a.narrowValue(nodeLocation(sb.Node), inf, where)
	}
}

// rowDependent reports whether a value depends on the rows read: it is
// not a constant.
func rowDependent(i info) bool { return i.class != "" || i.agg }

// condition reports whether a value chosen by a condition on the row (a
// comparison, CASE WHEN, coalesce of two columns) is nonlinear where it
// stands. In the argument of an aggregate it is not: at the top level
// metricgate counts the people on each side of it (rewrite.go), and in a
// subquery the aggregate's value becomes conditioned (see funcCall).
// Anywhere else it is: summed further up, a condition that holds for one
// row weighs that row by 1 and the others by 0.
func (a *analyzer) condition(i info) bool {
	if !rowDependent(i) {
		return false
	}
	if a.aggArg {
		a.condSeen++
		return false
	}
	return true
}

// isCondition reports whether n is a condition: its value is a truth.
func isCondition(n *pg.Node) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_AExpr:
		op := ""
		if len(x.AExpr.Name) > 0 {
			op = str(x.AExpr.Name[len(x.AExpr.Name)-1])
		}
		return x.AExpr.Kind != pg.A_Expr_Kind_AEXPR_OP && x.AExpr.Kind != pg.A_Expr_Kind_AEXPR_NULLIF ||
			comparisonOps[op] || regexOps[op] || strings.Contains(op, "~~")
	case *pg.Node_BoolExpr, *pg.Node_NullTest, *pg.Node_BooleanTest:
		return true
	case *pg.Node_SubLink:
		return x.SubLink.SubLinkType != pg.SubLinkType_EXPR_SUBLINK
	}
	return false
}

// zoneName is a time zone given by name, without an offset.
var zoneName = regexp.MustCompile(`^[A-Za-z_]+(/[A-Za-z_]+)*$`)

// roundingCasts are the types a cast to steps a value (to whole numbers,
// whole days).
var roundingCasts = set("int", "int2", "int4", "int8", "integer", "smallint", "bigint", "date")

// exactCasts keep a value as it is (without a precision or a length).
var exactCasts = set("numeric", "decimal", "timestamp", "timestamptz", "text")

// fractionalTypes hold fractions: a division of them is a scaling.
var fractionalTypes = set("numeric", "decimal", "float4", "float8", "real", "float", "double precision", "interval")

// arithmetic returns whether the operator expression e (op, with operands
// l and r) is nonlinear, or a step function of one column. Affine
// arithmetic stays linear: a sum, a difference, a product or quotient by
// a constant. A product of two values from the row, a division by one,
// any other operator (%, ^, |/, @) on one, and the sum or difference of
// two steps are nonlinear.
func arithmetic(e *pg.A_Expr, op string, l, r info) (nonlinear, stepped bool) {
	nonlinear = l.nonlinear || r.nonlinear
	lc, rc := !rowDependent(l), !rowDependent(r)
	if e.Kind != pg.A_Expr_Kind_AEXPR_OP {
		return nonlinear || !lc || !rc, false // NULLIF(x, c): NULL for one value only
	}
	switch op {
	case "+", "-":
		if l.stepped && r.stepped && l.origin == r.origin {
			// Two steps of one column (t AT TIME ZONE two zones, x / 100
			// minus (x + 1) / 100): 1 between them, 0 elsewhere, an
			// indicator of one row. Steps of two columns are a distance
			// (closed_at::date - due_date).
			return true, false
		}
		return nonlinear, l.stepped || r.stepped
	case "*":
		return nonlinear || !lc && !rc, l.stepped || r.stepped
	case "/":
		if rc && !lc && !l.fractional && !r.fractional {
			// An integer divided by a constant: a step. Of one column it
			// coarsens (x / 100); of a shifted or stepped value it steps
			// at a point of the author's choosing.
			return nonlinear || l.stepped || !l.single, true
		}
		return nonlinear || !rc, l.stepped
	}
	return nonlinear || !lc || !rc, false
}

// maxScale and minScale bound the factor constants may multiply a row's
// columns by in one value: a second (1e6 µs), an hour (1/3600), a year of
// seconds; not 1e9, which packs one value above another.
const (
	maxScale = 1e6
	minScale = 1e-9
)

// scaled returns the factor of the value of e (see info.scale).
func scaled(e *pg.A_Expr, op string, l, r info) float64 {
	ls, rs := cmp.Or(l.scale, 1), cmp.Or(r.scale, 1)
	switch op {
	case "*", "/":
		c, side, ok := constNumber(e.Rexpr), ls, rowDependent(l) && !rowDependent(r)
		if !ok && op == "*" && rowDependent(r) && !rowDependent(l) {
			c, side, ok = constNumber(e.Lexpr), rs, true
		}
		if c == 0 || !ok {
			return max(ls, rs)
		}
		c = math.Abs(c)
		if op == "/" {
			return side / c
		}
		return side * c
	}
	return max(ls, rs)
}

// constNumber is the value of the numeric literal n (through casts), or 0.
func constNumber(n *pg.Node) float64 {
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().Arg
	}
	c := n.GetAConst()
	switch {
	case c == nil:
		return 0
	case c.GetIval() != nil:
		return float64(c.GetIval().Ival)
	case c.GetFval() != nil:
		f, _ := strconv.ParseFloat(c.GetFval().Fval, 64)
		return f
	}
	return 0
}

// checkAggArg refuses a nonlinear aggregate argument (see info.nonlinear).
func (a *analyzer) checkAggArg(at int32, inf info, agg string) {
	if inf.picked && agg != "count" {
		a.pickedUse(at, inf, agg+"()")
	}
	if inf.nonlinear && !collecting[agg] {
		a.c.add(at, RuleArithmetic,
			"%s() of a value that is not affine in the row's columns (a product or quotient of two of them, sign, abs, round, powers, greatest, nullif, a subquery, or a condition decided below): such a value can weigh one row by 1 and the rest by 0; aggregate columns, their sums and differences, multiples by constants and extract(epoch FROM …), with conditions in FILTER or CASE WHEN of this top-level aggregate, where metricgate counts each side",
			agg)
	}
}

// functionShape returns whether the value of the non-aggregate function
// call f is nonlinear, a step of one column, or one column (see info).
// extract(epoch FROM x) and AT TIME ZONE a constant keep x's shape;
// date_trunc, a calendar field and a cast step one column; every other
// function of a value from the row is nonlinear.
func functionShape(f *pg.FuncCall, name string, args []info) (nonlinear, stepped, single bool) {
	dependent := 0
	for _, inf := range args {
		if rowDependent(inf) {
			dependent++
		}
		nonlinear = nonlinear || inf.nonlinear
	}
	if dependent == 0 || nonlinear {
		return nonlinear, false, false
	}
	last := args[len(args)-1]
	switch {
	case (name == "extract" || name == "date_part") && len(args) == 2 && !rowDependent(args[0]):
		if strings.EqualFold(constString(f.Args[0]), "epoch") {
			return false, last.stepped, last.single // seconds since 1970: x itself
		}
		return !last.single && !last.stepped, last.single || last.stepped, false
	case name == "date_trunc" && len(args) >= 2 && !rowDependent(args[0]) && dependent == 1:
		return !args[1].single && !args[1].stepped, args[1].single || args[1].stepped, false
	case name == "timezone" && len(args) == 2 && !rowDependent(args[0]):
		// A named zone keeps the column's shape; a POSIX offset
		// ('X-05:17:33') is a shift of the author's choosing.
		return false, last.stepped, last.single && zoneName.MatchString(constString(f.Args[0]))
	}
	return true, false, false
}

// personTable reports whether a bare column belongs to a table whose rows
// are people (its entity key is its own id: users), so that a red column
// of it (username, name, e-mail) identifies one.
func personTable(i info) bool {
	t := i.rel
	if t == nil || t.table == nil {
		return false
	}
	return len(t.table.Entity) == 1 && t.table.Entity[0] == "id"
}

// wildcardPattern reports whether e is a LIKE or ILIKE whose pattern (the
// literal n) has a wildcard: a pattern matches a set of values, where =,
// IN and a pattern without wildcards name them one by one.
func wildcardPattern(e *pg.A_Expr, n *pg.Node) bool {
	op := ""
	if len(e.Name) > 0 {
		op = str(e.Name[len(e.Name)-1])
	}
	like := e.Kind == pg.A_Expr_Kind_AEXPR_LIKE || e.Kind == pg.A_Expr_Kind_AEXPR_ILIKE || strings.Contains(op, "~~")
	if !like {
		return false
	}
	p := constString(n)
	return strings.ContainsAny(p, "%_")
}

// MaxPicks is how many picks (pickAggregates) of one column a query may
// take at the top level.
const MaxPicks = 6

// pickAggregates return one row's value (percentile_cont, two rows'
// between them).
var pickAggregates = set("min", "max", "percentile_disc", "percentile_cont", "mode")

// checkPick applies the rules of an aggregate that returns one row's
// value: it picks one column (or a duration), never several packed into
// one number; at the top level not a time, which names the row's person
// as a key would (created_at to the microsecond, or the day a profile
// shows); and the column is remembered, to refuse it when the query
// compares it with a literal (see analyzer.picks).
func (a *analyzer) checkPick(f *pg.FuncCall, name string, s *nscope, filterCols map[string]bool) {
	var args []*pg.Node
	if name == "min" || name == "max" {
		args = f.Args
	}
	for _, o := range f.AggOrder {
		if sb := o.GetSortBy(); sb != nil {
			args = append(args, sb.Node)
		}
	}
	for _, arg := range args {
		inf := a.muted(func() info { return a.expr(arg, s, ctxValue) })
		if !rowDependent(inf) {
			continue
		}
		switch {
		case (inf.catval || inf.class == schema.Category) && (a.role == roleTop || !a.perKey):
			a.c.add(nodeLocation(arg), RulePick,
				"%s() of a category's value (max(u.user_type), max(u.admin::int)) tells whether any one row has a value, a FILTER nobody counts: count the rows per value with count(*) FILTER (WHERE …) or GROUP BY, where metricgate counts the people", name)
		case a.role != roleTop && !a.perKey && (inf.class == schema.Time || a.timeOrigin(inf)):
			a.c.add(nodeLocation(arg), RulePick,
				"%s() of %s in a subquery that is not grouped by an id returns one row's time, which a group key or a duration further up turns back into that instant; group the subquery by an id (GROUP BY i.id: one issue's first merge request), or correlate a LATERAL subquery with an id (WHERE d.environment_id = f.environment_id)", name, inf.origin)
		case !inf.onecol:
			a.c.add(nodeLocation(arg), RulePick,
				"%s() returns one row's value, and this one is made of several columns: created_at * 1e9 + sign_in_count would carry a whole row out in one number; pick one column (or a duration, merged_at - created_at)", name)
		case a.role == roleTop && (inf.class == schema.Time || a.timeOrigin(inf) && !inf.duration):
			a.c.add(nodeLocation(arg), RulePick,
				"%s() of %s returns one row's time, which tells whose row it is (a creation time to the microsecond, or the day a profile shows); output a duration (merged_at - created_at) or count rows per date_trunc('day', …) group instead", name, inf.origin)
		case a.role == roleTop && filterCols[inf.origin]:
			a.c.add(nodeLocation(arg), RulePick,
				"%s() picks %s, which its own FILTER compares with a literal: a threshold at one row's value makes the pick that row's, and a condition next to it tells about that row; threshold another column", name, inf.origin)
		case a.role == roleTop:
			a.picks = append(a.picks, pickUse{at: nodeLocation(arg), agg: name, origin: inf.origin})
		}
	}
}

// checkPicks refuses a pick of a column the query compares with a literal
// anywhere: min(x) FILTER (WHERE x >= <one row's value> AND <a guess
// about that row>) is that value exactly when the guess is right.
func (a *analyzer) checkPicks() {
	per := map[string]int{}
	for _, p := range a.picks {
		if per[p.origin]++; per[p.origin] == MaxPicks+1 {
			a.c.add(p.at, RulePick,
				"more than %d picks (min, max, percentiles, mode) of %s in one query: at many fractions they list the group's values one by one, and FILTERs that overlap link them across classes; keep to a few (median, p90, max)",
				MaxPicks, p.origin)
		}
		if a.literalCols[p.origin] {
			a.c.add(p.at, RulePick,
				"%s() picks %s, which this query compares with a literal in a WHERE or ON: a threshold at one row's value makes the pick that row's, and a condition next to it tells about that row; threshold another column, or aggregate %s with avg() or sum()",
				p.agg, p.origin, p.origin)
		}
	}
}

// pickyOperand refuses a condition that can pick one person or row (see
// info.narrow and info.fine) as the operand of anything but AND: a
// comparison of two conditions ((P) >= (NOT broad) is P OR broad), IS
// DISTINCT FROM, IS NOT TRUE, ARRAY[P, broad] under = ANY, IS NULL.
func (a *analyzer) pickyOperand(loc int32, inf info, where string) {
	if inf.narrow || inf.fine {
		a.c.add(loc, RuleEntity,
			"a condition that compares an id, a text or red column, a rank or a time to the second with a literal is an operand of %s: (P) >= (NOT broad) is 'P OR broad', and 'broad OR <one person>' against 'broad' tells that person's value; such a condition must stand on its own, AND-ed with the rest",
			where)
	}
}

// finerThanDay reports whether the literal n (through casts) is a time
// with a time of day other than midnight, or a number (an epoch): a
// threshold that can fall between two rows of one day.
func finerThanDay(n *pg.Node) bool {
	if l := n.GetList(); l != nil { // BETWEEN, IN
		return slices.ContainsFunc(l.Items, finerThanDay)
	}
	for n.GetTypeCast() != nil {
		n = n.GetTypeCast().Arg
	}
	c := n.GetAConst()
	if c == nil {
		return false
	}
	if c.GetSval() == nil {
		return c.GetIval() != nil || c.GetFval() != nil
	}
	v := strings.TrimSpace(c.GetSval().Sval)
	i := strings.IndexAny(v, "T ")
	if i < 0 {
		return false
	}
	t := strings.TrimLeft(v[i+1:], " ")
	t = strings.TrimRight(strings.SplitN(strings.SplitN(t, "+", 2)[0], "Z", 2)[0], " ")
	return strings.Trim(t, "0:.") != ""
}

// relsOf returns the relations whose columns n reads, outside subqueries.
func (a *analyzer) relsOf(n *pg.Node, s *nscope) []*rel {
	var out []*rel
	var walk func(*pg.Node)
	walk = func(n *pg.Node) {
		if n == nil {
			return
		}
		switch x := n.Node.(type) {
		case *pg.Node_ColumnRef:
			if r, ok := a.resolveQuiet(x.ColumnRef, s); ok && r.rel != nil && !slices.Contains(out, r.rel) {
				out = append(out, r.rel)
			}
			return
		case *pg.Node_SubLink:
			walk(x.SubLink.Testexpr)
			return
		}
		children(inner(n), walk)
	}
	walk(n)
	return out
}

// checkCrossComparison refuses, in a predicate, a comparison between two
// relations that is not an equality of two columns (a tie) or an order of
// two times (p.created_at >= m.created_at), and any comparison of two
// conditions: g.n <= u.admin::int + 1 gives the admins' rows two partners
// of generate_series, (g.n = 1) >= (NOT u.admin) is an OR; either weighs
// some rows more than others in every sum.
func (a *analyzer) checkCrossComparison(e *pg.A_Expr, op string, l, r info, s *nscope) {
	if e.Lexpr == nil || e.Rexpr == nil {
		return
	}
	if isCondition(e.Lexpr) && isCondition(e.Rexpr) {
		a.c.add(e.Location, RuleEntity,
			"a comparison of two conditions is an OR or an XOR in disguise ((P) >= (Q) is P OR NOT Q); write the conditions on their own, AND-ed")
		return
	}
	lr, rr := a.relsOf(e.Lexpr, s), a.relsOf(e.Rexpr, s)
	if len(lr) == 0 || len(rr) == 0 {
		return
	}
	same := len(lr) == 1 && len(rr) == 1 && lr[0] == rr[0]
	if same || slices.ContainsFunc(slices.Concat(lr, rr), func(r *rel) bool { return r.unknown }) {
		return // one table's condition, or refused already
	}
	switch {
	case (e.Kind == pg.A_Expr_Kind_AEXPR_OP || e.Kind == pg.A_Expr_Kind_AEXPR_OP_ANY) && op == "=" &&
		(l.bare || l.onecol || !rowDependent(l)) && (r.bare || r.onecol || !rowDependent(r)):
	case e.Kind == pg.A_Expr_Kind_AEXPR_OP && (op == "<>" || op == "!=") && l.bare && r.bare: // leaves one partner out
	case e.Kind == pg.A_Expr_Kind_AEXPR_OP && comparisonOps[op] && l.bare && r.bare &&
		l.class == schema.Time && r.class == schema.Time:
	default:
		a.c.add(e.Location, RuleEntity,
			"this compares columns of two tables with %s on computed values: a join on anything but an equality of two columns (or an order of two times) can give some rows more partners than others (g.n <= u.x copies each row x times), and a sum would weigh them; join on ids",
			op)
	}
}

// checkLateral refuses, in a LATERAL subquery, a SELECT without FROM and a
// WHERE condition on the outer row alone: either decides, row by row, what
// the outer row gets (SELECT u.x WHERE u.username LIKE 'ann%' UNION ALL
// SELECT 0), as a CASE WHEN would, and nobody counts the people on each
// side.
func (a *analyzer) checkLateral(sel *pg.SelectStmt, sc *nscope) {
	decides := sel.WhereClause != nil || sel.HavingClause != nil || len(sel.GroupClause) > 0
	if len(sel.FromClause) == 0 && decides {
		a.c.add(a.c.selectKeyword(sel, 0), RuleEntity,
			"a LATERAL subquery without FROM that filters decides, row by row, what the outer row gets, as a CASE WHEN would, where metricgate cannot count the people on each side; compute it in the outer SELECT, or with FILTER")
		return
	}
	for _, lim := range []*pg.Node{sel.LimitCount, sel.LimitOffset} {
		if lim != nil && len(a.relsOfDeep(lim, sc)) > 0 {
			a.c.add(nodeLocation(lim), RuleEntity,
				"a LIMIT or OFFSET of a LATERAL subquery that reads the outer row gives some rows more partners than others; use a constant")
		}
	}
	for _, c := range andConjuncts(sel.WhereClause) {
		own, outer := false, false
		for _, r := range a.relsOfDeep(c, sc) {
			if slices.Contains(sc.rels, r) {
				own = true
			} else {
				outer = true
			}
		}
		if outer && !own {
			a.c.add(nodeLocation(c), RuleEntity,
				"this condition of a LATERAL subquery reads only the outer row: it decides, row by row, what the outer row gets, as a CASE WHEN would, where metricgate cannot count the people on each side; put it in the outer WHERE or in a FILTER")
		}
	}
}

// relsOfDeep is relsOf through subqueries too, as far as their names
// resolve in s (a correlated EXISTS reads the outer row).
func (a *analyzer) relsOfDeep(n *pg.Node, s *nscope) []*rel {
	var out []*rel
	var walk func(*pg.Node)
	walk = func(n *pg.Node) {
		if n == nil {
			return
		}
		if ref := n.GetColumnRef(); ref != nil {
			if len(ref.Fields) > 1 { // qualified: unambiguous outside the subquery too
				if r, ok := a.resolveQuiet(ref, s); ok && r.rel != nil && !slices.Contains(out, r.rel) {
					out = append(out, r.rel)
				}
			}
			return
		}
		children(inner(n), walk)
	}
	walk(n)
	return out
}

// Frame option bits of PostgreSQL's WindowDef.frameOptions (parsenodes.h):
// a frame written in ROWS or GROUPS mode.
const (
	frameRows   = 0x00004
	frameGroups = 0x00008
)

// boolAggregates aggregate conditions, which metricgate splits like a
// CASE WHEN (rewrite.go).
var boolAggregates = set("bool_and", "bool_or", "every")

// describeValue names a value's class for a message: "a category" or
// "users.admin (class category)".
func describeValue(inf info) string {
	if inf.classes {
		return "a column whose branches (UNION ALL) give values of different classes"
	}
	if inf.origin != "" {
		return fmt.Sprintf("%s (class %s)", inf.origin, inf.class)
	}
	return "a computed value"
}

// timeOrigin reports whether the value comes from a time column (its
// catalogued origin is of class time): extract(doy FROM created_at) and
// created_at - date_trunc('year', created_at) are still that instant's.
func (a *analyzer) timeOrigin(inf info) bool {
	table, column, ok := strings.Cut(inf.origin, ".")
	if !ok {
		return false
	}
	t := a.cat.Table(table)
	if t == nil {
		return false
	}
	cl, ok := t.Column(column)
	return ok && cl == schema.Time
}

// durationRels reports whether the two times of e come from relations with
// people (or from one relation): a time of a table without people, held
// to one row (projects p WHERE p.star_count = 296), is a constant, and
// u.created_at - p.created_at the instant u.created_at itself.
func (a *analyzer) durationRels(e *pg.A_Expr, s *nscope) bool {
	l, r := a.relsOf(e.Lexpr, s), a.relsOf(e.Rexpr, s)
	if len(l) == 1 && len(r) == 1 && l[0] == r[0] {
		return true
	}
	for _, rl := range slices.Concat(l, r) {
		if !hasPeople(rl) || rl.oneRow { // one row's time is a constant: t - c is the instant t
			return false
		}
	}
	return len(l) > 0 && len(r) > 0
}

// oneRowAggregate reports whether an aggregating SELECT has no GROUP BY
// in any branch: it makes one row.
func oneRowAggregate(sel *pg.SelectStmt) bool {
	if sel == nil {
		return false
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		return false // a set of branches: more than one row
	}
	return len(sel.GroupClause) == 0
}
