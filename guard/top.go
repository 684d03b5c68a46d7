package guard

import (
	"regexp"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// topCol is an output column of the top-level SELECT (or of every branch of
// a top-level set operation).
type topCol struct {
	name     string
	kind     Kind
	loc      int32
	isCount  bool   // count(*) or count(DISTINCT …)
	what     string // what it is, for the group-size message
	countLoc int32  // where the offending branch's column is
}

// checkTop applies the rules of the top-level SELECT: only aggregates and
// group keys come out, no red column as output or key, no window function,
// no scalar subquery outside an aggregate, no GROUPING SETS, no DISTINCT ON.
// Each branch of a set operation is held to the same rules.
func (c *checker) checkTop(sel *pg.SelectStmt, at int32) []topCol {
	for _, lim := range []*pg.Node{sel.LimitCount, sel.LimitOffset} {
		if lim != nil {
			c.add(nodeLocation(lim), RuleNotAggregate,
				"LIMIT, OFFSET and FETCH in the top-level SELECT choose rows before metricgate drops those of fewer than k people, so which rows load could depend on a dropped one's values; load every row (max_rows bounds them) and sort or cut in the warehouse")
			break
		}
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		l := c.checkTop(sel.Larg, at)
		r := c.checkTop(sel.Rarg, at)
		for i := range l {
			if i < len(r) {
				if l[i].isCount && !r[i].isCount {
					l[i].isCount, l[i].what, l[i].countLoc = false, r[i].what, r[i].countLoc
				}
				if r[i].kind == Aggregate {
					l[i].kind = Aggregate
				}
			}
		}
		c.checkOrder(sel.SortClause)
		return l
	}
	start := c.selectKeyword(sel, at)
	if len(sel.ValuesLists) > 0 {
		c.add(start, RuleNotAggregate, "VALUES outputs rows, not aggregates")
		return nil
	}
	if len(sel.DistinctClause) > 0 && sel.DistinctClause[0] != nil && sel.DistinctClause[0].GetNode() != nil {
		c.add(c.keyword(start, start, "distinct"), RuleDistinctOn,
			"DISTINCT ON in the top-level SELECT picks one row per key and outputs its values; aggregate instead (DISTINCT ON is allowed in subqueries)")
	}
	keys := c.newKeySet(c.groupKeys(sel))
	var out []topCol
	for _, tn := range sel.TargetList {
		rt := tn.GetResTarget()
		if rt == nil {
			continue
		}
		loc := rt.Location
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			// TABLE t has a * without a location: point at the statement.
			c.add(firstNonNeg(ref.Location, start), RuleNotAggregate, "SELECT * outputs rows; select aggregates and GROUP BY columns only")
			continue
		}
		name := outputName(rt)
		c.checkTopExpr(rt.Val, false)
		if bad := ungrouped(rt.Val, keys); bad != nil {
			c.add(bad.Location, RuleNotAggregate,
				"output column %q uses %s outside an aggregate, and it is not in GROUP BY: that would output row values; aggregate it or add it to GROUP BY",
				name, strings.Join(refNames(bad), "."))
		}
		col := topCol{name: name, kind: kindOf(rt.Val, keys), loc: loc, countLoc: loc}
		col.isCount, col.what = countShape(rt.Val)
		out = append(out, col)
	}
	c.checkOrder(sel.SortClause)
	return out
}

// checkTopExpr rejects window functions anywhere in a top-level expression
// and subqueries outside aggregates and FILTER clauses.
func (c *checker) checkTopExpr(n *pg.Node, inAggregate bool) {
	if n == nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg.Node_FuncCall:
		f := x.FuncCall
		if f.Over != nil {
			name, _ := funcName(f)
			c.add(f.Location, RuleWindow,
				"window function %s() OVER (…) in the top-level SELECT outputs a value per row; window functions are allowed in subqueries only", name)
		}
		agg := inAggregate || isAggregateCall(f)
		for _, a := range f.Args {
			c.checkTopExpr(a, agg)
		}
		for _, o := range f.AggOrder {
			c.checkTopExpr(o, agg)
		}
		return // FILTER is a predicate
	case *pg.Node_SubLink:
		return // judged by what it reads (entity.go)
	}
	children(inner(n), func(ch *pg.Node) { c.checkTopExpr(ch, inAggregate) })
}

// checkOrder rejects window functions and red columns in a top-level ORDER
// BY: it orders the output and must not sort by what it may not show.
func (c *checker) checkOrder(sorts []*pg.Node) {
	for _, s := range sorts {
		sb := s.GetSortBy()
		if sb == nil {
			continue
		}
		c.checkTopExpr(sb.Node, false)
	}
}

// groupKeys resolves the GROUP BY list (positions and output names) into
// expressions and checks each key for red columns.
func (c *checker) groupKeys(sel *pg.SelectStmt) []*pg.Node {
	var keys []*pg.Node
	for _, g := range sel.GroupClause {
		if gs := g.GetGroupingSet(); gs != nil {
			if gs.Kind != pg.GroupingSetKind_GROUPING_SET_EMPTY {
				c.add(gs.Location, RuleGroupingSets,
					"GROUPING SETS, ROLLUP and CUBE add subtotal rows from which suppressed groups can be computed back; group by plain columns and sum in the warehouse")
			}
			keys = append(keys, gs.Content...) // already rejected; spare the follow-on errors
			continue
		}
		key := g
		if ac := g.GetAConst(); ac != nil && ac.GetIval() != nil {
			pos := int(ac.GetIval().Ival)
			if pos < 1 || pos > len(sel.TargetList) {
				c.add(ac.Location, RuleNotAggregate, "GROUP BY position %d is not in the select list", pos)
				continue
			}
			key = sel.TargetList[pos-1].GetResTarget().GetVal()
		} else if ref := g.GetColumnRef(); ref != nil && len(ref.Fields) == 1 {
			// An output name: PostgreSQL takes it when no input column
			// has that name, so the output's expression is a key too.
			name := str(ref.Fields[0])
			for _, tn := range sel.TargetList {
				rt := tn.GetResTarget()
				if rt == nil || rt.Name != name {
					continue
				}
				if hasAggregate(rt.Val) {
					c.add(ref.Location, RuleNotAggregate, "GROUP BY %s names the aggregate output %q; group by columns and aggregate in the select list", name, name)
					continue
				}
				keys = append(keys, rt.Val)
			}
		}
		if hasAggregate(key) {
			c.add(nodeLocation(g), RuleNotAggregate, "GROUP BY must not contain an aggregate; group by columns and aggregate in the select list")
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

func firstNonNeg(a, b int32) int32 {
	if a >= 0 {
		return a
	}
	return b
}

// redViolation reports a red column reaching where.
// ungrouped returns the first column reference in n that is neither inside
// an aggregate nor part of a group key.
func ungrouped(n *pg.Node, keys *keySet) *pg.ColumnRef {
	if n == nil || keys.has(n) {
		return nil
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return x.ColumnRef
	case *pg.Node_FuncCall:
		if name, _ := funcName(x.FuncCall); isAggregateCall(x.FuncCall) || !aggregates[name] && !scalars[name] && !windowOnly[name] {
			return nil // an aggregate, or a function refused already: no follow-on error
		}
	case *pg.Node_SubLink:
		return nil // judged by what it reads; see entity.go
	case *pg.Node_JsonArrayAgg, *pg.Node_JsonObjectAgg:
		return nil // rejected as collecting
	}
	var bad *pg.ColumnRef
	children(inner(n), func(ch *pg.Node) {
		if bad == nil {
			bad = ungrouped(ch, keys)
		}
	})
	return bad
}

// hasAggregate reports whether n calls an aggregate outside subqueries.
func hasAggregate(n *pg.Node) bool {
	if n == nil {
		return false
	}
	switch x := n.Node.(type) {
	case *pg.Node_FuncCall:
		if isAggregateCall(x.FuncCall) {
			return true
		}
	case *pg.Node_SubLink, *pg.Node_JsonArrayAgg, *pg.Node_JsonObjectAgg:
		return false
	}
	found := false
	children(inner(n), func(ch *pg.Node) { found = found || hasAggregate(ch) })
	return found
}

// kindOf classifies an accepted top-level expression.
func kindOf(n *pg.Node, keys *keySet) Kind {
	if keys.has(n) {
		return GroupKey
	}
	hasAgg, hasRef := false, false
	var visit func(*pg.Node)
	visit = func(n *pg.Node) {
		if n == nil || hasAgg {
			return
		}
		switch x := n.Node.(type) {
		case *pg.Node_FuncCall:
			if isAggregateCall(x.FuncCall) {
				hasAgg = true
				return
			}
		case *pg.Node_ColumnRef:
			hasRef = true
		}
		children(inner(n), visit)
	}
	visit(n)
	switch {
	case hasAgg:
		return Aggregate
	case hasRef:
		return GroupKey
	}
	return Constant
}

// countShape reports whether n is count(*) or count(DISTINCT …), and
// otherwise describes it.
func countShape(n *pg.Node) (bool, string) {
	f := n.GetFuncCall()
	if f == nil {
		switch n.GetNode().(type) {
		case *pg.Node_AConst:
			return false, "a literal"
		case *pg.Node_TypeCast:
			return false, "a cast (write the bare count(…); the warehouse keeps it as an integer)"
		}
		return false, "an expression"
	}
	name, schema := funcName(f)
	if name != "count" || (schema != "" && schema != "pg_catalog") {
		return false, name + "(…)"
	}
	if f.Over != nil {
		return false, "a window count"
	}
	if f.AggStar {
		return true, "count(*)"
	}
	if f.AggDistinct {
		return true, "count(DISTINCT …)"
	}
	return false, "count(…) without DISTINCT, which counts rows with a non-null value, not entities"
}

var columnName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkNames checks that output columns can be warehouse columns.
func (c *checker) checkNames(cols []topCol) {
	seen := map[string]int{}
	for i, col := range cols {
		switch {
		case col.name == "?column?":
			c.add(col.loc, RuleOutputName, "output column %d has no name: add AS <name>", i+1)
		case strings.HasPrefix(col.name, "_"):
			c.add(col.loc, RuleOutputName, "output column name %q starts with _, which is reserved for provenance columns (_snapshot_date, _run_id, …)", col.name)
		case !columnName.MatchString(col.name):
			c.add(col.loc, RuleOutputName, "output column name %q must be lower-case letters, digits and _ (it becomes a warehouse column); use AS <name>", col.name)
		}
		if j, dup := seen[col.name]; dup {
			c.add(col.loc, RuleOutputName, "output column name %q is used twice (columns %d and %d); give one an alias", col.name, j+1, i+1)
		}
		seen[col.name] = i
	}
}

// checkGroupSize checks that the group_size column exists and counts.
func (c *checker) checkGroupSize(cols []topCol, groupSize string, at int32) {
	names := make([]string, 0, len(cols))
	for _, col := range cols {
		if col.name == groupSize {
			if !col.isCount {
				c.add(col.countLoc, RuleGroupSize,
					"group_size column %q must be count(*) or count(DISTINCT …) so that it counts the entities behind each row; it is %s",
					groupSize, col.what)
			}
			return
		}
		names = append(names, col.name)
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "(none)"
	}
	c.add(at, RuleGroupSize, "group_size column %q (from the header) is not in the select list; the output columns are: %s",
		groupSize, list)
}

// selectKeyword finds the SELECT keyword of sel: the last "select" token
// before its first target.
func (c *checker) selectKeyword(sel *pg.SelectStmt, fallback int32) int32 {
	firstTarget := int32(-1)
	if len(sel.TargetList) > 0 {
		firstTarget = nodeLocation(sel.TargetList[0])
	}
	if firstTarget < 0 {
		return fallback
	}
	best := fallback
	for _, t := range c.scan() {
		if t.Start >= firstTarget {
			break
		}
		if strings.EqualFold(c.src[t.Start:t.End], "select") {
			best = t.Start
		}
	}
	return best
}
