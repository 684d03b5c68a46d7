package guard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// taint records that a value is derived from a red column.
type taint struct {
	origin  string // the red column, "users.email"
	loc     int32  // where the taint enters the expression being checked
	through string // the derived column it came through, "s.e"
	agg     string // the innermost non-count aggregate it passed through
}

// col is an output column of a derived table (subquery, CTE, VALUES).
type col struct {
	name  string
	taint *taint
	// wildcard marks the columns a `*` passed through from base tables:
	// any name may resolve to it, and the name itself decides redness.
	wildcard bool
	tables   []string
	loc      int32 // where a wildcard's `*` is, or -1
}

// item is one name visible in a FROM clause.
type item struct {
	alias   string
	table   string  // base relation
	derived bool    // subquery, CTE or VALUES: cols are known
	cols    []col   // derived columns, or function columns
	members []*item // a join with an alias hides its members behind it
	fn      bool    // a function in FROM
	fnTaint *taint
}

type scope struct {
	parent *scope
	ctes   map[string][]col
	items  []*item
}

func (s *scope) cte(name string) ([]col, bool) {
	for ; s != nil; s = s.parent {
		if cols, ok := s.ctes[name]; ok {
			return cols, true
		}
	}
	return nil, false
}

// find returns the item visible as name, innermost first.
func (s *scope) find(name string) *item {
	for ; s != nil; s = s.parent {
		for _, it := range s.items {
			if it.alias == name {
				return it
			}
			for _, m := range it.members {
				if m.alias == name {
					return m
				}
			}
		}
	}
	return nil
}

// baseTables are the base relations behind an item.
func (it *item) baseTables() []string {
	switch {
	case it.table != "":
		return []string{it.table}
	case it.members != nil:
		var out []string
		for _, m := range it.members {
			out = append(out, m.baseTables()...)
		}
		return out
	}
	var out []string
	for _, c := range it.cols {
		if c.wildcard {
			out = append(out, c.tables...)
		}
	}
	return out
}

// column resolves name in the item: found reports whether the item can
// have that column at all; t is its taint when known.
func (it *item) column(name string) (t *taint, found bool) {
	switch {
	case it.table != "":
		return nil, true // unknown columns of a base table: by name only
	case it.members != nil:
		for _, m := range it.members {
			if t, ok := m.column(name); ok && t != nil {
				return t, true
			}
		}
		return nil, true
	case it.fn:
		if len(it.cols) == 0 && name == it.alias {
			return it.fnTaint, true
		}
		for _, c := range it.cols {
			if c.name == name {
				return it.fnTaint, true
			}
		}
		return nil, false
	}
	wild := false
	for _, c := range it.cols {
		if c.name == name && !c.wildcard {
			return c.taint, true
		}
		wild = wild || c.wildcard
	}
	return nil, wild
}

// fieldFunctions are PostgreSQL's built-in functions of one argument that
// accept any row (record, anyelement, "any"), and so can be called in field
// notation: users.concat is concat(users), the whole row as text;
// u.json_agg is json_agg(u), every row. (SELECT proname FROM pg_proc WHERE
// pronargs = 1 AND proargtypes[0] IN ('record'::regtype, 'anyelement'::regtype,
// '"any"'::regtype, 'anycompatible'::regtype, 'anynonarray'::regtype), PostgreSQL 17.)
var fieldFunctions = set(
	"any_out", "anycompatible_out", "anyelement_out", "anynonarray_out", "array_agg", "concat", "count",
	"cume_dist", "dense_rank", "first_value", "hash_record", "json_agg", "json_build_array",
	"json_build_object", "jsonb_agg", "jsonb_build_array", "jsonb_build_object", "lag", "last_value",
	"lead", "mode", "num_nonnulls", "num_nulls", "percent_rank", "pg_collation_for",
	"pg_column_compression", "pg_column_size", "pg_typeof", "quote_literal", "quote_nullable", "rank",
	"record_out", "record_send", "row_to_json", "to_json", "to_jsonb",
)

// hasNamedColumn reports whether the item is known to have a column name
// (a derived column by that name, not one a * may bring).
func (it *item) hasNamedColumn(name string) bool {
	for _, m := range it.members {
		if m.hasNamedColumn(name) {
			return true
		}
	}
	for _, c := range it.cols {
		if c.name == name && !c.wildcard {
			return true
		}
	}
	return false
}

// wholeRow is the taint of a whole-row reference to an item.
func (it *item) wholeRow(loc int32) *taint {
	switch {
	case it.fn:
		return it.fnTaint
	case it.derived:
		for _, c := range it.cols {
			if c.taint != nil {
				return &taint{origin: c.taint.origin, loc: loc, through: it.alias + ".*"}
			}
			if c.wildcard {
				return &taint{origin: "the whole rows of " + it.alias, loc: loc}
			}
		}
		return nil
	}
	return &taint{origin: "the whole rows of " + it.alias, loc: loc}
}

// scopeFor builds the scope of one SELECT: its CTEs, then its FROM items.
func (c *checker) scopeFor(sel *pg.SelectStmt, parent *scope) *scope {
	sc := c.withScope(sel.WithClause, parent)
	for _, f := range sel.FromClause {
		sc.items = append(sc.items, c.fromItems(sc, f)...)
	}
	return sc
}

func (c *checker) withScope(w *pg.WithClause, parent *scope) *scope {
	sc := &scope{parent: parent}
	if w == nil {
		return sc
	}
	sc.ctes = map[string][]col{}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		q := cte.Ctequery.GetSelectStmt()
		if q == nil {
			sc.ctes[cte.Ctename] = []col{{name: "*", wildcard: true, taint: &taint{origin: "a data-modifying CTE", loc: cte.Location}, loc: -1}}
			continue
		}
		sc.ctes[cte.Ctename] = c.rename(c.selectColumns(q, sc), cte.Aliascolnames, "CTE "+cte.Ctename, cte.Location)
	}
	return sc
}

// fromItems returns the items one FROM entry makes visible, adding them to
// sc as it goes so that LATERAL references resolve.
func (c *checker) fromItems(sc *scope, n *pg.Node) []*item {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := x.RangeVar
		alias := rv.Relname
		if rv.Alias != nil {
			alias = rv.Alias.Aliasname
		}
		if cols, ok := sc.cte(rv.Relname); ok && rv.Schemaname == "" {
			if rv.Alias != nil {
				cols = c.rename(cols, rv.Alias.Colnames, alias, rv.Location)
			}
			return []*item{{alias: alias, derived: true, cols: cols}}
		}
		c.tables[rv.Relname] = true
		if rv.Alias != nil && len(rv.Alias.Colnames) > 0 {
			c.add(rv.Location, RuleColumnAliases,
				"column aliases on table %s (%s AS %s(…)) rename its columns blindly and could hide a red column: select the columns in a subquery and alias them there",
				rv.Relname, rv.Relname, alias)
		}
		return []*item{{alias: alias, table: rv.Relname}}
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		alias := ""
		var colnames []*pg.Node
		if rs.Alias != nil {
			alias, colnames = rs.Alias.Aliasname, rs.Alias.Colnames
		}
		cols := c.rename(c.selectColumns(rs.Subquery.GetSelectStmt(), sc), colnames, cmp.Or(alias, "a subquery"), nodeLocation(rs.Subquery))
		return []*item{{alias: alias, derived: true, cols: cols}}
	case *pg.Node_JoinExpr:
		j := x.JoinExpr
		left := c.fromItems(sc, j.Larg)
		sc.items = append(sc.items, left...)
		right := c.fromItems(sc, j.Rarg)
		sc.items = sc.items[:len(sc.items)-len(left)]
		members := slices.Concat(left, right)
		if j.Alias != nil {
			if len(j.Alias.Colnames) > 0 {
				c.add(nodeLocation(j.Larg), RuleColumnAliases,
					"column aliases on a join (… AS %s(…)) rename its columns blindly and could hide a red column: alias the columns in a subquery instead",
					j.Alias.Aliasname)
			}
			return []*item{{alias: j.Alias.Aliasname, members: members}}
		}
		return members
	case *pg.Node_RangeFunction:
		rf := x.RangeFunction
		it := &item{fn: true}
		for _, f := range rf.Functions {
			if t := c.taintOf(f, sc); t != nil && it.fnTaint == nil {
				it.fnTaint = t
			}
			if it.alias == "" {
				if l := f.GetList(); l != nil && len(l.Items) > 0 {
					if fc := l.Items[0].GetFuncCall(); fc != nil {
						it.alias, _ = funcName(fc)
					}
				}
			}
		}
		if rf.Alias != nil {
			it.alias = rf.Alias.Aliasname
			for _, cn := range rf.Alias.Colnames {
				it.cols = append(it.cols, col{name: str(cn)})
			}
		}
		return []*item{it}
	}
	// TABLESAMPLE, XMLTABLE, JSON_TABLE: rejected elsewhere; opaque here.
	return []*item{{alias: "", derived: true, cols: []col{{name: "*", wildcard: true, loc: -1}}}}
}

// rename applies column aliases (AS s(a, b)) to the columns of a derived
// table, CTE or CTE reference named what, located at at. Aliases over
// columns a `*` brought in are rejected: which column gets which alias
// depends on the table's definition, which the guard cannot see, so
// (SELECT * FROM users) s(a, b, c) could name users.email c.
func (c *checker) rename(cols []col, colnames []*pg.Node, what string, at int32) []col {
	if len(colnames) == 0 {
		return cols
	}
	for _, cl := range cols {
		if cl.wildcard {
			c.add(firstNonNeg(cl.loc, at), RuleColumnAliases,
				"column aliases on %s (… AS %s(…)) rename the columns of * blindly and could hide a red column: select the columns by name and alias them there",
				what, what)
			break
		}
	}
	out := append([]col(nil), cols...)
	for i, cn := range colnames {
		if i < len(out) && !out[i].wildcard {
			out[i].name = str(cn)
		}
	}
	return out
}

// selectColumns returns the output columns of a nested SELECT with their
// taint: red data may flow through subqueries and CTEs, and is tracked so
// that it cannot come out under another name.
func (c *checker) selectColumns(sel *pg.SelectStmt, parent *scope) []col {
	if sel == nil {
		return nil
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		sc := c.withScope(sel.WithClause, parent)
		l := c.selectColumns(sel.Larg, sc)
		r := c.selectColumns(sel.Rarg, sc)
		out := append([]col(nil), l...)
		for i := range out {
			if i < len(r) {
				if out[i].taint == nil {
					out[i].taint = r[i].taint
				}
				if r[i].wildcard {
					if !out[i].wildcard {
						out[i].loc = r[i].loc
					}
					out[i].wildcard, out[i].tables = true, append(out[i].tables, r[i].tables...)
				}
			}
		}
		return out
	}
	sc := c.scopeFor(sel, parent)
	if len(sel.ValuesLists) > 0 {
		var out []col
		for _, row := range sel.ValuesLists {
			for i, v := range row.GetList().GetItems() {
				if i >= len(out) {
					out = append(out, col{name: fmt.Sprintf("column%d", i+1)})
				}
				if t := c.taintOf(v, sc); t != nil && out[i].taint == nil {
					out[i].taint = t
				}
			}
		}
		return out
	}
	var out []col
	for _, tn := range sel.TargetList {
		rt := tn.GetResTarget()
		if rt == nil {
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			out = append(out, c.expandStar(ref, sc)...)
			continue
		}
		out = append(out, col{name: outputName(rt), taint: c.taintOf(rt.Val, sc)})
	}
	return out
}

func isStar(r *pg.ColumnRef) bool {
	return len(r.Fields) > 0 && r.Fields[len(r.Fields)-1].GetAStar() != nil
}

// expandStar returns the columns `*` or `t.*` brings into a select list.
func (c *checker) expandStar(ref *pg.ColumnRef, sc *scope) []col {
	parts := refNames(ref)
	var items []*item
	if len(parts) >= 2 {
		if it := sc.find(parts[len(parts)-2]); it != nil {
			items = append(items, it)
		}
	} else {
		items = sc.items
	}
	var out []col
	var expand func(it *item)
	expand = func(it *item) {
		switch {
		case it.members != nil:
			for _, m := range it.members {
				expand(m)
			}
		case it.table != "":
			out = append(out, col{name: "*", wildcard: true, tables: []string{it.table}, loc: ref.Location})
		case it.fn:
			if len(it.cols) == 0 {
				out = append(out, col{name: it.alias, taint: it.fnTaint})
			}
			for _, fc := range it.cols {
				out = append(out, col{name: fc.name, taint: it.fnTaint})
			}
		default:
			out = append(out, it.cols...)
		}
	}
	for _, it := range items {
		expand(it)
	}
	if len(out) == 0 {
		out = append(out, col{name: "*", wildcard: true, loc: ref.Location})
	}
	return out
}

// taintOf returns how the value of expression n depends on a red column,
// or nil. Arguments of count() and predicates (FILTER, EXISTS) do not
// taint: a count of e-mail addresses is a number, not an address.
func (c *checker) taintOf(n *pg.Node, sc *scope) *taint {
	if n == nil {
		return nil
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return c.refTaint(x.ColumnRef, sc)
	case *pg.Node_FuncCall:
		f := x.FuncCall
		name, _ := funcName(f)
		if name == "count" {
			return nil
		}
		var t *taint
		for _, a := range f.Args {
			t = first(t, c.taintOf(a, sc))
		}
		if f.AggWithinGroup {
			for _, o := range f.AggOrder {
				t = first(t, c.taintOf(o, sc))
			}
		}
		if t != nil && t.agg == "" && (isAggregateCall(f) || f.Over != nil) {
			cp := *t
			cp.agg = name
			t = &cp
		}
		return t
	case *pg.Node_SubLink:
		s := x.SubLink
		if s.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK {
			return nil
		}
		t := c.taintOf(s.Testexpr, sc)
		cols := c.selectColumns(s.Subselect.GetSelectStmt(), sc)
		for _, cl := range cols {
			if cl.taint != nil {
				t = first(t, &taint{origin: cl.taint.origin, loc: s.Location, through: "a subquery", agg: cl.taint.agg})
			}
			if cl.wildcard {
				t = first(t, &taint{origin: "the whole rows of a subquery", loc: s.Location})
			}
		}
		return t
	case *pg.Node_AExpr:
		// data->>'email': a JSON key that names a red column is red.
		e := x.AExpr
		if len(e.Name) == 1 && jsonAccess[str(e.Name[0])] {
			if key := constString(e.Rexpr); key != "" {
				if name, red := c.g.red.match(key, nil); red {
					return &taint{origin: "JSON key " + name, loc: e.Location}
				}
			}
		}
	case *pg.Node_AIndirection:
		var t *taint
		for _, ind := range x.AIndirection.Indirection {
			if s := ind.GetString_(); s != nil {
				if name, red := c.g.red.match(s.Sval, nil); red {
					t = first(t, &taint{origin: name, loc: nodeLocation(x.AIndirection.Arg)})
				}
			} else {
				t = first(t, c.taintOf(ind, sc))
			}
		}
		return first(t, c.taintOf(x.AIndirection.Arg, sc))
	}
	var t *taint
	children(inner(n), func(ch *pg.Node) { t = first(t, c.taintOf(ch, sc)) })
	return t
}

// jsonAccess are the operators that take a JSON key or path.
var jsonAccess = set("->", "->>", "#>", "#>>")

// constString returns the value of a string constant, or of the last
// element of an ARRAY['a','b'] / '{a,b}' path, or "".
func constString(n *pg.Node) string {
	if n == nil {
		return ""
	}
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		if sv := x.AConst.GetSval(); sv != nil {
			s := strings.Trim(sv.Sval, "{} ")
			if i := strings.LastIndexByte(s, ','); i >= 0 {
				s = s[i+1:]
			}
			return strings.Trim(s, `" `)
		}
	case *pg.Node_TypeCast:
		return constString(x.TypeCast.Arg)
	case *pg.Node_AArrayExpr:
		if els := x.AArrayExpr.Elements; len(els) > 0 {
			return constString(els[len(els)-1])
		}
	}
	return ""
}

func first(a, b *taint) *taint {
	if a != nil {
		return a
	}
	return b
}

// refTaint decides whether a column reference is red: by its name (and the
// base table it resolves to), or because it names a derived column that
// carries red data.
func (c *checker) refTaint(ref *pg.ColumnRef, sc *scope) *taint {
	parts := refNames(ref)
	if len(parts) == 0 {
		return nil
	}
	if isStar(ref) {
		if len(parts) == 1 {
			return &taint{origin: "every column (*)", loc: ref.Location}
		}
		if it := sc.find(parts[len(parts)-2]); it != nil {
			return it.wholeRow(ref.Location)
		}
		return &taint{origin: "every column of " + parts[len(parts)-2], loc: ref.Location}
	}
	name := parts[len(parts)-1]
	if len(parts) >= 2 {
		qual := parts[len(parts)-2]
		it := sc.find(qual)
		var tables []string
		if it != nil {
			tables = it.baseTables()
		}
		if origin, red := c.g.red.match(name, tables); red {
			return &taint{origin: origin, loc: ref.Location}
		}
		if it != nil && fieldFunctions[strings.ToLower(name)] && !it.hasNamedColumn(name) {
			// u.concat is concat(u), u.json_agg is json_agg(u): PostgreSQL
			// calls a function of the whole row when no column has the name.
			if t := it.wholeRow(ref.Location); t != nil {
				t.through = qual + "." + name + " (that is " + strings.ToLower(name) + "(" + qual + "))"
				return t
			}
		}
		if it != nil {
			if t, _ := it.column(name); t != nil {
				return &taint{origin: t.origin, loc: ref.Location, through: qual + "." + name, agg: t.agg}
			}
		}
		return nil
	}
	// Unqualified: the innermost scope level that has the name wins. A
	// name that is the alias of a FROM item is taken as a whole-row
	// reference (the guard cannot know that no table has such a column,
	// and the row is the more dangerous reading).
	for s := sc; s != nil; s = s.parent {
		for _, it := range s.items {
			if it.alias == name && !it.fn {
				return it.wholeRow(ref.Location)
			}
		}
		var tables []string
		for _, it := range s.items {
			tables = append(tables, it.baseTables()...)
		}
		if origin, red := c.g.red.match(name, tables); red {
			return &taint{origin: origin, loc: ref.Location}
		}
		var t *taint
		found := false
		for _, it := range s.items {
			ct, ok := it.column(name)
			if ok {
				found = true
				if ct != nil && t == nil {
					through := name
					if it.alias != "" {
						through = it.alias + "." + name
					}
					t = &taint{origin: ct.origin, loc: ref.Location, through: through, agg: ct.agg}
				}
			}
		}
		if t != nil {
			return t
		}
		if found {
			return nil
		}
	}
	return nil
}

// outputName is the column name PostgreSQL gives a select-list entry.
func outputName(rt *pg.ResTarget) string {
	if rt.Name != "" {
		return rt.Name
	}
	return figureName(rt.Val)
}

func figureName(n *pg.Node) string {
	switch x := n.GetNode().(type) {
	case *pg.Node_ColumnRef:
		parts := refNames(x.ColumnRef)
		if len(parts) > 0 && parts[len(parts)-1] != "*" {
			return parts[len(parts)-1]
		}
	case *pg.Node_FuncCall:
		name, _ := funcName(x.FuncCall)
		return name
	case *pg.Node_TypeCast:
		if name := figureName(x.TypeCast.Arg); name != "?column?" {
			return name
		}
		if tn := x.TypeCast.TypeName; tn != nil && len(tn.Names) > 0 {
			return strings.ToLower(str(tn.Names[len(tn.Names)-1]))
		}
	case *pg.Node_AIndirection:
		ind := x.AIndirection.Indirection
		if len(ind) > 0 {
			if s := ind[len(ind)-1].GetString_(); s != nil {
				return s.Sval
			}
		}
		return figureName(x.AIndirection.Arg)
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest"
		}
		return "least"
	case *pg.Node_NullIfExpr:
		return "nullif"
	case *pg.Node_SubLink:
		if x.SubLink.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK {
			return "exists"
		}
		if x.SubLink.SubLinkType == pg.SubLinkType_ARRAY_SUBLINK {
			return "array"
		}
		if sel := x.SubLink.Subselect.GetSelectStmt(); sel != nil && len(sel.TargetList) > 0 {
			if rt := sel.TargetList[0].GetResTarget(); rt != nil {
				return outputName(rt)
			}
		}
	case *pg.Node_SqlvalueFunction:
		return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(x.SqlvalueFunction.Op.String(), "SVFOP_"), "_N"))
	}
	return "?column?"
}
