package guard

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"gitlab.com/metricgate/metricgate/schema"
)

// role says what a SELECT is to the query around it.
type role int

const (
	roleTop     role = iota // the top-level SELECT (or a branch of it)
	roleDerived             // a subquery in FROM or a CTE: its rows feed the query
	roleSublink             // a subquery in an expression (EXISTS, IN, scalar)
)

// leaf is the analysis of one SELECT that is not a set operation.
type leaf struct {
	sel         *pg.SelectStmt
	sc          *nscope
	cols        []dcol
	carriers    []carrier
	aggregating bool
	groupBase   map[string]bool // "alias.column" of bare base-column group keys
	insertAt    int32
}

// withScope builds the scope of a WITH clause: each CTE analysed as a
// derived table, in order (a CTE sees the ones before it).
func (a *analyzer) withScope(w *pg.WithClause, parent *nscope) *nscope {
	sc := &nscope{parent: parent}
	if parent != nil {
		sc.sublink = parent.sublink
	}
	if w == nil {
		return sc
	}
	sc.ctes = map[string]*cte{}
	for _, n := range w.Ctes {
		ce := n.GetCommonTableExpr()
		if ce == nil {
			continue
		}
		q := ce.Ctequery.GetSelectStmt()
		if q == nil {
			sc.ctes[ce.Ctename] = &cte{invalid: true}
			continue
		}
		cols, hidden, agg := a.derivedAgg(q, sc, ce.Location)
		if len(hidden) > 0 && ce.Ctematerialized == pg.CTEMaterialize_CTEMaterializeDefault && targetsHaveSublink(q) {
			a.materialize(ce)
		}
		if len(ce.Aliascolnames) > 0 && hasStar(q) {
			a.c.add(ce.Location, RuleColumnAliases,
				"column aliases on CTE %s, which selects *, rename its columns blindly: select the columns by name and alias them there", ce.Ctename)
		}
		cols = a.renameCols(cols, ce.Aliascolnames)
		sc.ctes[ce.Ctename] = &cte{cols: cols, hidden: hidden, star: hasStar(q), aggregated: agg, oneRow: agg && oneRowAggregate(q)}
	}
	return sc
}

// targetsHaveSublink reports whether a select list of sel computes a
// subquery per row.
func targetsHaveSublink(sel *pg.SelectStmt) bool {
	for _, l := range leaves(sel) {
		for _, tn := range l.TargetList {
			found := false
			var walk func(n *pg.Node)
			walk = func(n *pg.Node) {
				if n == nil || found {
					return
				}
				if n.GetSubLink() != nil {
					found = true
					return
				}
				children(inner(n), walk)
			}
			walk(tn)
			if found {
				return true
			}
		}
	}
	return false
}

// materialize makes a CTE MATERIALIZED: its subquery columns are computed
// once per row, not again in every cell and count of the rewrite that
// reads them (PostgreSQL inlines a CTE read once, expression and all).
// What it returns does not change.
func (a *analyzer) materialize(ce *pg.CommonTableExpr) {
	toks := a.c.scan()
	depth := 0
	for _, t := range toks {
		if t.Start < ce.Location {
			continue
		}
		w := strings.ToLower(a.c.src[t.Start:t.End])
		switch {
		case w == "(":
			depth++
		case w == ")":
			depth--
		case w == "as" && depth == 0:
			a.insert(t.End, " MATERIALIZED")
			return
		}
	}
}

func (a *analyzer) renameCols(cols []dcol, names []*pg.Node) []dcol {
	out := append([]dcol(nil), cols...)
	for i, n := range names {
		if i < len(out) {
			out[i].name = str(n)
		}
	}
	return out
}

// leaves flattens a set operation into its branches.
func leaves(sel *pg.SelectStmt) []*pg.SelectStmt {
	if sel == nil {
		return nil
	}
	if sel.Op == pg.SetOperation_SETOP_NONE {
		return []*pg.SelectStmt{sel}
	}
	return append(leaves(sel.Larg), leaves(sel.Rarg)...)
}

// setOps reports whether a set operation other than UNION ALL combines
// the branches of sel.
func distinctSetOp(sel *pg.SelectStmt) (string, bool) {
	if sel == nil || sel.Op == pg.SetOperation_SETOP_NONE {
		return "", false
	}
	if !(sel.Op == pg.SetOperation_SETOP_UNION && sel.All) {
		name := strings.TrimPrefix(sel.Op.String(), "SETOP_")
		if !sel.All {
			return name, true
		}
		return name + " ALL", true
	}
	if op, ok := distinctSetOp(sel.Larg); ok {
		return op, true
	}
	return distinctSetOp(sel.Rarg)
}

// derived analyses a subquery in FROM or a CTE, adds hidden columns that
// carry its rows' entities, and returns its columns and the hidden ones.
func (a *analyzer) derived(sel *pg.SelectStmt, parent *nscope, at int32) ([]dcol, []hiddenCol) {
	cols, hidden, _ := a.derivedAgg(sel, parent, at)
	return cols, hidden
}

// derivedAgg is derived, and also reports whether a branch aggregates.
func (a *analyzer) derivedAgg(sel *pg.SelectStmt, parent *nscope, at int32) ([]dcol, []hiddenCol, bool) {
	if sel == nil {
		return nil, nil, false
	}
	sc := parent
	if sel.Op != pg.SetOperation_SETOP_NONE {
		sc = a.withScope(sel.WithClause, parent)
	}
	var ls []*leaf
	for _, l := range leaves(sel) {
		ls = append(ls, a.leaf(l, sc, roleDerived))
	}
	if len(ls) == 0 {
		return nil, nil, false
	}
	cols := ls[0].cols
	for _, l := range ls[1:] {
		for i := range cols {
			if i < len(l.cols) {
				bare := cols[i].info.bare && l.cols[i].info.bare
				person := cols[i].info.person || l.cols[i].info.person
				classes := cols[i].info.class != l.cols[i].info.class
				cols[i].info = combine(cols[i].info, l.cols[i].info)
				cols[i].info.bare, cols[i].info.person = bare, person
				cols[i].info.classes = cols[i].info.classes || classes
			}
		}
	}
	// The hidden expressions of every branch.
	exprs := make([][]carrier, len(ls))
	n := 0
	for i, l := range ls {
		exprs[i] = a.project(l, len(ls) > 1)
		n = max(n, len(exprs[i]))
	}
	agg := slices.ContainsFunc(ls, func(l *leaf) bool { return l.aggregating })
	if n == 0 {
		return cols, nil, agg
	}
	if op, bad := distinctSetOp(sel); bad {
		at = a.c.selectKeyword(ls[0].sel, at) // where the set operation starts
		a.c.add(at, RuleEntity, "%s removes or matches rows by value, and metricgate cannot count the people behind them; use UNION ALL, or EXISTS/NOT EXISTS tied to the row's person", op)
		return cols, nil, agg
	}
	// Each branch's people in columns of their own (NULL in the other
	// branches' rows): a row of one branch is never counted in another's
	// people, so a branch that picks one person cannot hide behind a
	// branch of many (a group needs k people of every branch).
	var hidden []hiddenCol
	var slot []int // the first hidden column of each branch
	for i := range ls {
		slot = append(slot, len(hidden))
		for _, c := range exprs[i] {
			what := c.what
			if len(ls) > 1 {
				what = fmt.Sprintf("%s (branch %d)", c.what, i+1)
			}
			hidden = append(hidden, hiddenCol{name: a.hiddenName(), list: c.list, zeroOK: c.zeroOK, what: what})
		}
	}
	for i, l := range ls {
		var b strings.Builder
		for j := range hidden {
			e := "NULL::text"
			if k := j - slot[i]; k >= 0 && k < len(exprs[i]) {
				e = exprs[i][k].expr
			}
			fmt.Fprintf(&b, ", %s AS %s", e, hidden[j].name)
		}
		b.WriteByte(' ')
		a.insert(l.insertAt, b.String())
	}
	return cols, hidden, agg
}

// project returns, for a derived leaf, the expressions of its hidden
// columns: the carriers of its FROM, passed through a row-preserving
// SELECT, or collected per group (a comma list of ids) by an aggregating
// one.
func (a *analyzer) project(l *leaf, text bool) []carrier {
	var out []carrier
	scalar := func(e string) string {
		if text {
			return "(" + e + ")::text" // set operations need one type
		}
		return e
	}
	for _, c := range l.carriers {
		switch {
		case !l.aggregating:
			e := c.expr
			if !c.list {
				e = scalar(e)
			}
			out = append(out, carrier{expr: e, list: c.list, zeroOK: c.zeroOK, what: c.what})
		case !c.list && c.rel != nil && l.groupBase[c.expr]:
			out = append(out, carrier{expr: scalar(c.expr), what: c.what})
		case c.list:
			out = append(out, carrier{expr: "string_agg(DISTINCT " + c.expr + ", ',')", list: true, zeroOK: c.zeroOK, what: c.what})
		default:
			out = append(out, carrier{expr: "string_agg(DISTINCT (" + c.expr + ")::text, ',')", list: true, what: c.what})
		}
	}
	return out
}

// leaf analyses one SELECT that is not a set operation.
func (a *analyzer) leaf(sel *pg.SelectStmt, parent *nscope, r role) *leaf {
	if sel.Op != pg.SetOperation_SETOP_NONE {
		// A nested set operation in a branch: analyse as derived.
		cols, _ := a.derived(sel, parent, -1)
		return &leaf{sel: sel, sc: parent, cols: cols, insertAt: -1}
	}
	sc := a.withScope(sel.WithClause, parent)
	l := &leaf{sel: sel, sc: sc, groupBase: map[string]bool{}}
	saved := a.role
	a.role = r
	defer func() { a.role = saved }()
	if len(sel.ValuesLists) > 0 {
		for _, row := range sel.ValuesLists {
			for i, v := range row.GetList().GetItems() {
				inf := a.expr(v, sc, ctxValue)
				if restricted(inf.class) {
					a.restrictedUse(nodeLocation(v), inf, "VALUES")
				}
				if i >= len(l.cols) {
					l.cols = append(l.cols, dcol{name: fmt.Sprintf("column%d", i+1)})
				}
				l.cols[i].info = combine(l.cols[i].info, inf)
			}
		}
		return l
	}
	for _, f := range sel.FromClause {
		sc.rels = append(sc.rels, a.fromItem(sc, f)...)
	}

	if sel.WhereClause != nil {
		a.expr(sel.WhereClause, sc, ctxPredicate)
	}
	if a.lateral > 0 && r == roleDerived {
		a.checkLateral(sel, sc)
	}
	a.markNonNull(sel, sc)
	perKey := (a.lateral > 0 && r == roleDerived || r == roleSublink) && len(sel.GroupClause) == 0 && a.correlatedByKey(sel, sc)
	// GROUP BY.
	for _, g := range sel.GroupClause {
		if g.GetGroupingSet() != nil {
			continue // refused by checkTop or below
		}
		key := g
		if ac := g.GetAConst(); ac != nil && ac.GetIval() != nil {
			pos := int(ac.GetIval().Ival)
			if pos >= 1 && pos <= len(sel.TargetList) {
				key = sel.TargetList[pos-1].GetResTarget().GetVal()
			}
		} else if ref := g.GetColumnRef(); ref != nil && len(ref.Fields) == 1 && !a.inputHas(sc, str(ref.Fields[0])) {
			for _, tn := range sel.TargetList {
				if rt := tn.GetResTarget(); rt != nil && rt.Name == str(ref.Fields[0]) {
					key = rt.Val
				}
			}
		}
		if key == nil {
			continue
		}
		inf := a.expr(key, sc, ctxValue)
		if inf.bare && inf.class == schema.Key {
			perKey = true
		}
		if inf.picked {
			a.pickedUse(nodeLocation(g), inf, "GROUP BY")
		}
		if ref := key.GetColumnRef(); ref != nil {
			if res, ok := a.resolveQuiet(ref, sc); ok && res.rel != nil && res.rel.table != nil {
				col := refNames(ref)[len(refNames(ref))-1]
				l.groupBase[quoteIdent(res.rel.alias)+"."+quoteIdent(col)] = true
				if res.rel.table.IsPerson(col) && !slices.Contains(res.rel.table.Entity, col) {
					// One row per closer (GROUP BY i.closed_by_id): each
					// row is that person's, counted as people.
					a.countPeople(res.rel, col)
				}
			}
		}
		if r == roleTop {
			a.narrowValue(nodeLocation(g), inf, "GROUP BY")
		}
		if inf.rank {
			a.c.add(nodeLocation(g), RuleWindow,
				"GROUP BY a rank: its values tell how many rows come before (rank() OVER (ORDER BY admin) starts the second group at the number of admins + 1); compare it with a literal (rn = 1) in WHERE instead")
		}
		switch {
		case r == roleTop && restricted(inf.class):
			a.restrictedUse(nodeLocation(g), inf, "GROUP BY")
		case r == roleTop && inf.rawTime:
			a.c.add(nodeLocation(g), RuleTimeKey,
				"GROUP BY %s groups by a raw timestamp, one group per instant: group by date_trunc('day', …) (or week, month) instead", inf.origin)
		case r != roleTop && inf.class.Sensitive():
			a.restrictedUse(nodeLocation(g), inf, "GROUP BY")
		}
	}
	savedPerPerson, savedPerKey, savedGrouped := a.perPerson, a.perKey, a.groupedRels
	a.perPerson, a.perKey, a.groupedRels = false, perKey, map[*rel]bool{}
	defer func() { a.perPerson, a.perKey, a.groupedRels = savedPerPerson, savedPerKey, savedGrouped }()
	for _, rl := range sc.rels {
		for _, c := range rl.allCarriers() {
			if c.rel != nil && !c.picked && c.owner == "" && l.groupBase[quoteIdent(c.rel.alias)+"."+quoteIdent(c.column)] {
				a.perPerson = true
				a.groupedRels[c.rel] = true
			}
		}
	}
	if sel.HavingClause != nil {
		inf := a.expr(sel.HavingClause, sc, ctxPredicate)
		l.aggregating = l.aggregating || inf.agg
		a.checkHaving(sel.HavingClause)
	}
	for _, wd := range sel.WindowClause {
		if w := wd.GetWindowDef(); w != nil {
			a.window(w, sc)
		}
	}
	for _, tn := range sel.TargetList {
		rt := tn.GetResTarget()
		if rt == nil {
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			if r == roleTop {
				continue // refused by checkTop
			}
			l.cols = append(l.cols, a.expandStar(ref, sc)...)
			continue
		}
		inf := a.expr(rt.Val, sc, ctxValue)
		l.aggregating = l.aggregating || inf.agg
		if r == roleTop && !inf.agg && restricted(inf.class) {
			a.restrictedUse(rt.Location, inf, fmt.Sprintf("output column %q", outputName(rt)))
		}
		if r == roleTop {
			a.narrowValue(rt.Location, inf, fmt.Sprintf("output column %q", outputName(rt)))
			if inf.picked && !inf.agg {
				a.pickedUse(rt.Location, inf, fmt.Sprintf("output column %q", outputName(rt)))
			}
		}
		if strings.HasPrefix(rt.Name, "__mg") {
			a.c.add(rt.Location, RuleIdentifier, "names starting with __mg are reserved for metricgate's hidden columns")
		}
		l.cols = append(l.cols, dcol{name: outputName(rt), info: inf})
	}
	if len(sel.GroupClause) > 0 {
		l.aggregating = true
	}
	hasDistinct := len(sel.DistinctClause) > 0
	distinctOn := hasDistinct && sel.DistinctClause[0] != nil && sel.DistinctClause[0].GetNode() != nil
	if distinctOn {
		for _, d := range sel.DistinctClause {
			inf := a.expr(d, sc, ctxValue)
			if inf.class.Sensitive() {
				a.restrictedUse(nodeLocation(d), inf, "DISTINCT ON")
			}
		}
	}
	a.orderBy(sel.SortClause, sc, "ORDER BY")
	a.expr(sel.LimitCount, sc, ctxValue)
	a.expr(sel.LimitOffset, sc, ctxValue)
	a.countUntied(sel, sc)
	// The carriers last: predicates may have added people to count.
	for _, rl := range sc.rels {
		l.carriers = append(l.carriers, rl.allCarriers()...)
	}
	l.carriers = a.dropJoinedOwners(sel, sc, l.carriers)
	if hasDistinct && !distinctOn {
		// DISTINCT would keep a row per picked id: count only people here.
		l.carriers = slices.DeleteFunc(l.carriers, func(c carrier) bool { return c.picked })
	}
	if hasDistinct && !distinctOn && r == roleDerived && len(l.carriers) > 0 {
		a.c.add(a.c.keyword(a.c.selectKeyword(sel, 0), 0, "distinct"), RuleEntity,
			"SELECT DISTINCT in a subquery merges rows of different people, so metricgate cannot count them; write GROUP BY with the same columns instead")
	}
	l.insertAt = a.targetsEnd(sel)
	return l
}

// countUntied counts, by their ids, the rows of tables without people
// that no equality ties to a table with people (directly or through other
// tables): a CROSS JOIN to projects gives every group of issue authors each
// project's values, which would then leave one project row at a time.
func (a *analyzer) countUntied(sel *pg.SelectStmt, sc *nscope) {
	var bases []*rel
	var collect func(rs []*rel)
	collect = func(rs []*rel) {
		for _, r := range rs {
			if r.members != nil {
				collect(r.members)
			} else {
				bases = append(bases, r)
			}
		}
	}
	collect(sc.rels)
	tied := map[*rel]bool{}
	untied := false
	for _, r := range bases {
		if len(r.carriers) > 0 || r.table == nil {
			tied[r] = true // people of its own, or not a table (a function, VALUES)
		} else {
			untied = true
		}
	}
	if !untied {
		return
	}
	eqs := equalities(sel)
	var joins func(n *pg.Node)
	joins = func(n *pg.Node) {
		if j := n.GetJoinExpr(); j != nil {
			if j.Jointype != pg.JoinType_JOIN_INNER {
				eqs = append(eqs, equalitiesOf(j.Quals)...)
			}
			joins(j.Larg)
			joins(j.Rarg)
		}
	}
	for _, f := range sel.FromClause {
		joins(f)
	}
	var pairs [][2]*rel
	for _, p := range eqs {
		x, xok := a.resolveQuiet(p[0], sc)
		y, yok := a.resolveQuiet(p[1], sc)
		if xok && yok && x.rel != nil && y.rel != nil && x.rel != y.rel {
			pairs = append(pairs, [2]*rel{x.rel, y.rel})
		}
	}
	for _, p := range pairs {
		for _, r := range p {
			if !slices.Contains(bases, r) {
				tied[r] = true // of an outer query: tied there, or counted there
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, p := range pairs {
			if tied[p[0]] != tied[p[1]] {
				tied[p[0]], tied[p[1]], changed = true, true, true
			}
		}
	}
	for _, r := range bases {
		if tied[r] {
			continue
		}
		if cl, ok := r.table.Column("id"); ok && cl == schema.Key {
			a.countPicked(r)
		}
	}
}

// dropJoinedOwners drops the owner carriers of relations joined to their
// owner's row in this SELECT (an inner join or WHERE on owner.id =
// column): the owner's people are counted already, and the lookup would
// only cost time.
func (a *analyzer) dropJoinedOwners(sel *pg.SelectStmt, sc *nscope, cs []carrier) []carrier {
	if !slices.ContainsFunc(cs, func(c carrier) bool { return c.owner != "" }) {
		return cs
	}
	joined := map[*rel]bool{}
	type eq struct {
		p        [2]*pg.ColumnRef
		nullable map[string]bool // for a LEFT JOIN's ON: the aliases of its right side
	}
	var eqs []eq
	for _, p := range equalities(sel) {
		eqs = append(eqs, eq{p: p})
	}
	// A LEFT JOIN's ON ties each row of its right side to a row of its
	// left side: the owner may be on the left.
	var lefts func(n *pg.Node)
	lefts = func(n *pg.Node) {
		j := n.GetJoinExpr()
		if j == nil {
			return
		}
		if j.Jointype == pg.JoinType_JOIN_LEFT {
			right := aliasesOf(j.Rarg)
			for _, p := range equalitiesOf(j.Quals) {
				eqs = append(eqs, eq{p: p, nullable: right})
			}
		}
		lefts(j.Larg)
		lefts(j.Rarg)
	}
	for _, f := range sel.FromClause {
		lefts(f)
	}
	for _, e := range eqs {
		x, xok := a.resolveQuiet(e.p[0], sc)
		y, yok := a.resolveQuiet(e.p[1], sc)
		if !xok || !yok {
			continue
		}
		for _, q := range [][2]resolved{{x, y}, {y, x}} {
			in, out := q[0], q[1]
			if in.rel == nil || out.rel == nil || out.rel.table == nil || out.column != "id" || !slices.Contains(sc.rels, out.rel) && !inMembers(sc.rels, out.rel) {
				continue
			}
			if e.nullable != nil && (!e.nullable[in.rel.alias] || e.nullable[out.rel.alias]) {
				continue // the owner must be on the preserved side
			}
			for _, c := range cs {
				if c.owner != "" && c.rel == in.rel && c.column == in.column && c.owner == out.rel.table.Name && len(out.rel.carriers) > 0 {
					joined[in.rel] = true
				}
			}
		}
	}
	return slices.DeleteFunc(cs, func(c carrier) bool { return c.owner != "" && joined[c.rel] })
}

func inMembers(rels []*rel, r *rel) bool {
	for _, x := range rels {
		if x == r || inMembers(x.members, r) {
			return true
		}
	}
	return false
}

// markNonNull records the columns that the WHERE of sel, or the ON of its
// inner joins, compare or test with IS NOT NULL: in the rows that reach the
// select list they are not NULL, so an aggregate of them narrows nothing.
func (a *analyzer) markNonNull(sel *pg.SelectStmt, sc *nscope) {
	mark := func(n *pg.Node) {
		ref := n.GetColumnRef()
		if ref == nil {
			return
		}
		r, ok := a.resolveQuiet(ref, sc)
		if !ok || r.rel == nil || !slices.Contains(sc.rels, r.rel) && !inMembers(sc.rels, r.rel) {
			return
		}
		if a.nonNull == nil {
			a.nonNull = map[*rel]map[string]bool{}
		}
		if a.nonNull[r.rel] == nil {
			a.nonNull[r.rel] = map[string]bool{}
		}
		a.nonNull[r.rel][r.column] = true
	}
	var conj func(n *pg.Node)
	conj = func(n *pg.Node) {
		switch x := n.GetNode().(type) {
		case *pg.Node_BoolExpr:
			if x.BoolExpr.Boolop == pg.BoolExprType_AND_EXPR {
				for _, arg := range x.BoolExpr.Args {
					conj(arg)
				}
			}
		case *pg.Node_NullTest:
			if x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
				mark(x.NullTest.Arg)
			}
		case *pg.Node_AExpr:
			switch x.AExpr.Kind {
			case pg.A_Expr_Kind_AEXPR_OP, pg.A_Expr_Kind_AEXPR_IN, pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE,
				pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_OP_ANY:
				// Strict: true only when its operands are not NULL.
				mark(x.AExpr.Lexpr)
				mark(x.AExpr.Rexpr)
			}
		}
	}
	conj(sel.WhereClause)
	var joins func(n *pg.Node)
	joins = func(n *pg.Node) {
		if j := n.GetJoinExpr(); j != nil {
			if j.Jointype == pg.JoinType_JOIN_INNER {
				conj(j.Quals)
			}
			joins(j.Larg)
			joins(j.Rarg)
		}
	}
	for _, f := range sel.FromClause {
		joins(f)
	}
}

// inputHas reports whether a column of the FROM items of s is called name
// (then GROUP BY name means the input column, as in PostgreSQL).
func (a *analyzer) inputHas(s *nscope, name string) bool {
	for _, r := range s.rels {
		if _, ok := a.lookupColumn(r, name); ok {
			return true
		}
	}
	return false
}

// resolveQuiet resolves a reference without reporting problems: they are
// reported where the reference itself is analysed.
func (a *analyzer) resolveQuiet(ref *pg.ColumnRef, s *nscope) (resolved, bool) {
	was := a.c.mute
	a.c.mute = true
	defer func() { a.c.mute = was }()
	return a.resolve(ref, s)
}

func (r *rel) allCarriers() []carrier {
	if r.members != nil {
		var out []carrier
		for _, m := range r.members {
			out = append(out, m.allCarriers()...)
		}
		return out
	}
	return r.carriers
}

// expandStar returns the columns * or t.* brings into a derived select list.
func (a *analyzer) expandStar(ref *pg.ColumnRef, s *nscope) []dcol {
	parts := refNames(ref)
	var rels []*rel
	if len(parts) >= 2 {
		r := findRel(s, parts[len(parts)-2])
		if r == nil {
			a.c.add(ref.Location, RuleColumn, "%s is not a table or alias in scope", parts[len(parts)-2])
			return nil
		}
		rels = []*rel{r}
	} else {
		rels = s.rels
	}
	var out []dcol
	var expand func(r *rel)
	expand = func(r *rel) {
		switch {
		case r.members != nil:
			for _, m := range r.members {
				expand(m)
			}
		case r.table != nil:
			for _, c := range r.table.Order {
				inf, _ := a.lookupColumn(r, c)
				out = append(out, dcol{name: c, info: inf})
			}
		default:
			out = append(out, r.cols...)
		}
	}
	for _, r := range rels {
		expand(r)
	}
	return out
}

// fromItem returns the relations one FROM entry makes visible, adding them
// to s as it goes so that LATERAL references resolve.
func (a *analyzer) fromItem(s *nscope, n *pg.Node) []*rel {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := x.RangeVar
		alias := rv.Relname
		if rv.Alias != nil {
			alias = rv.Alias.Aliasname
		}
		if rv.Schemaname == "" {
			if ct := s.findCTE(rv.Relname); ct != nil {
				if ct.invalid {
					return []*rel{{alias: alias, scope: s, sublink: s.sublink, unknown: true}}
				}
				r := &rel{alias: alias, cols: ct.cols, scope: s, sublink: s.sublink, aggregated: ct.aggregated, oneRow: ct.oneRow}
				if rv.Alias != nil {
					if len(rv.Alias.Colnames) > 0 && ct.star {
						a.c.add(rv.Location, RuleColumnAliases,
							"column aliases on %s, which selects *, rename its columns blindly: select the columns by name and alias them there", rv.Relname)
					}
					r.cols = a.renameCols(r.cols, rv.Alias.Colnames)
				}
				for _, h := range ct.hidden {
					r.carriers = append(r.carriers, carrier{expr: quoteIdent(alias) + "." + h.name, list: h.list, zeroOK: h.zeroOK, what: h.what + " through " + rv.Relname})
				}
				return []*rel{r}
			}
		}
		a.c.tables[rv.Relname] = true
		if rv.Alias != nil && len(rv.Alias.Colnames) > 0 {
			a.c.add(rv.Location, RuleColumnAliases,
				"column aliases on table %s (%s AS %s(…)) rename its columns blindly: select the columns in a subquery and alias them there",
				rv.Relname, rv.Relname, alias)
		}
		if rv.Schemaname != "" && !strings.EqualFold(rv.Schemaname, "public") {
			a.c.add(rv.Location, RuleCatalog, "table %s.%s: only the public schema's catalogued tables may be read", rv.Schemaname, rv.Relname)
			return []*rel{{alias: alias, scope: s, sublink: s.sublink, unknown: true}}
		}
		t := a.cat.Table(rv.Relname)
		if t == nil {
			a.c.add(rv.Location, RuleCatalog,
				"table %s is not in the schema catalog (%s), so it cannot be read: add an entry (metricgate schema draft --source URL %s writes one), which the security owners review",
				rv.Relname, a.catalogFile(), rv.Relname)
			return []*rel{{alias: alias, scope: s, sublink: s.sublink, unknown: true}}
		}
		r := &rel{alias: alias, table: t, scope: s, sublink: s.sublink}
		if o := a.ownerOf(t); o != nil {
			// The rows belong to the owner's rows: look up its people.
			for _, e := range o.Entity {
				r.carriers = append(r.carriers, carrier{
					expr: fmt.Sprintf("(SELECT __mg_o.%s FROM %s AS __mg_o WHERE __mg_o.id = %s.%s)",
						quoteIdent(e), quoteIdent(o.Name), quoteIdent(alias), quoteIdent(t.Owner.Column)),
					rel: r, column: t.Owner.Column, owner: o.Name,
					what: fmt.Sprintf("%s.%s through %s.%s", o.Name, e, t.Name, t.Owner.Column),
				})
			}
			return []*rel{r}
		}
		for _, e := range a.entityColumns(t) {
			r.carriers = append(r.carriers, carrier{
				expr: quoteIdent(alias) + "." + quoteIdent(e), rel: r, column: e,
				what: fmt.Sprintf("%s.%s", t.Name, e),
			})
		}
		if a.namespaces && len(t.Entity) == 0 && t.Namespace != "" && len(t.People) > 0 {
			// A namespace's rows still name people (projects.creator_id):
			// one creator's projects across k namespaces are that
			// person's. The people the rows name are counted too, and
			// must be none or at least k.
			var cols []string
			for _, p := range t.People {
				cols = append(cols, quoteIdent(alias)+"."+quoteIdent(p))
			}
			r.carriers = append(r.carriers, carrier{
				expr: "concat_ws(',', " + strings.Join(cols, ", ") + ")", list: true, zeroOK: true,
				what: fmt.Sprintf("%s.%s (people named, none or at least k)", t.Name, strings.Join(t.People, ", ")),
			})
		}
		return []*rel{r}
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		alias := ""
		var colnames []*pg.Node
		if rs.Alias != nil {
			alias, colnames = rs.Alias.Aliasname, rs.Alias.Colnames
		}
		sub := rs.Subquery.GetSelectStmt()
		if rs.Lateral {
			a.lateral++
		}
		cols, hidden, agg := a.derivedAgg(sub, s, nodeLocation(rs.Subquery))
		if rs.Lateral {
			a.lateral--
		}
		if len(colnames) > 0 {
			if hasStar(sub) {
				a.c.add(nodeLocation(rs.Subquery), RuleColumnAliases,
					"column aliases on a subquery that selects * rename its columns blindly: select the columns by name and alias them there")
			}
			cols = a.renameCols(cols, colnames)
		}
		r := &rel{alias: alias, cols: cols, scope: s, sublink: s.sublink, aggregated: agg, series: sub != nil && len(sub.ValuesLists) > 0,
			oneRow: agg && !rs.Lateral && oneRowAggregate(sub)}
		for _, h := range hidden {
			e := h.name
			if alias != "" {
				e = quoteIdent(alias) + "." + h.name
			}
			r.carriers = append(r.carriers, carrier{expr: e, list: h.list, zeroOK: h.zeroOK, what: h.what})
		}
		return []*rel{r}
	case *pg.Node_JoinExpr:
		j := x.JoinExpr
		left := a.fromItem(s, j.Larg)
		s.rels = append(s.rels, left...)
		right := a.fromItem(s, j.Rarg)
		s.rels = s.rels[:len(s.rels)-len(left)]
		members := slices.Concat(left, right)
		var nullable []*rel
		switch j.Jointype {
		case pg.JoinType_JOIN_LEFT:
			nullable = right
		case pg.JoinType_JOIN_RIGHT:
			nullable = left
		case pg.JoinType_JOIN_FULL:
			nullable = members
		}
		for _, m := range nullable {
			if m.series || m.table == nil && m.members == nil && !m.unknown && len(m.allCarriers()) == 0 {
				a.c.add(nodeLocation(j.Rarg), RuleEntity,
					"an outer join to %s (a function, VALUES or a subquery without people) gives its values, or NULL, row by row, as a CASE WHEN would: generate_series of one day, outer-joined on a creation date, marks one person's rows; join it with an inner join, or keep it on the preserved side", m.alias)
				break
			}
		}
		if len(j.UsingClause) > 0 || j.IsNatural {
			for _, m := range members {
				a.using[m] = true
			}
		}
		if j.Quals != nil {
			tmp := &nscope{parent: s.parent, ctes: s.ctes, rels: append(append([]*rel(nil), s.rels...), members...), sublink: s.sublink}
			// An outer join's ON does not remove rows: it decides which
			// rows get the other side's values, as a CASE WHEN would.
			was := a.outerOn
			a.outerOn = j.Jointype != pg.JoinType_JOIN_INNER
			a.expr(j.Quals, tmp, ctxPredicate)
			a.outerOn = was
		}
		if j.Alias != nil && len(j.Alias.Colnames) > 0 {
			a.c.add(nodeLocation(j.Larg), RuleColumnAliases,
				"column aliases on a JOIN (… AS %s(…)) rename its columns blindly: select the columns by name and alias them there", j.Alias.Aliasname)
		}
		if j.Alias != nil {
			for _, m := range members {
				if len(m.allCarriers()) > 0 {
					a.c.add(nodeLocation(j.Larg), RuleEntity,
						"an alias on a JOIN hides its tables, and with them the people metricgate counts; drop the alias %s", j.Alias.Aliasname)
					break
				}
			}
			return []*rel{{alias: j.Alias.Aliasname, members: members, scope: s, sublink: s.sublink}}
		}
		return members
	case *pg.Node_RangeFunction:
		rf := x.RangeFunction
		alias := ""
		var colnames []*pg.Node
		if rf.Alias != nil {
			alias, colnames = rf.Alias.Aliasname, rf.Alias.Colnames
		}
		var cols []dcol
		for _, fn := range rf.Functions {
			items := fn.GetList().GetItems()
			if len(items) == 0 {
				continue
			}
			inf := a.expr(items[0], s, ctxValue)
			name := ""
			if fc := items[0].GetFuncCall(); fc != nil {
				name, _ = funcName(fc)
			}
			if alias == "" {
				alias = name
			}
			inf.bare, inf.agg = false, false
			if rowDependent(inf) && name != "unnest" {
				a.c.add(nodeLocation(items[0]), RuleEntity,
					"%s() in FROM with arguments from another table's rows gives each of those rows its own number of copies (generate_series(1, u.x) copies u's row x times), a weight a sum would carry; use constant arguments", name)
			}
			if inf.class == "" {
				inf.class = schema.Measure // a value per row, not a literal
				inf.onecol = true          // one value of a series of constants
			}
			cols = append(cols, dcol{name: name, info: inf})
		}
		if len(cols) == 1 && alias != "" {
			cols[0].name = alias
		}
		if rf.Ordinality {
			cols = append(cols, dcol{name: "ordinality", info: info{class: schema.Measure}})
		}
		cols = a.renameCols(cols, colnames)
		return []*rel{{alias: alias, cols: cols, scope: s, sublink: s.sublink, series: true}}
	}
	// TABLESAMPLE, XMLTABLE, JSON_TABLE: refused elsewhere.
	return nil
}

func hasStar(sel *pg.SelectStmt) bool {
	for _, l := range leaves(sel) {
		for _, tn := range l.TargetList {
			if ref := tn.GetResTarget().GetVal().GetColumnRef(); ref != nil && isStar(ref) {
				return true
			}
		}
	}
	return false
}

// ownerOf returns the owning table of t when t's rows belong to another
// table's rows and have no people of their own.
func (a *analyzer) ownerOf(t *schema.Table) *schema.Table {
	if len(t.Entity) > 0 || t.Owner == nil {
		return nil
	}
	return a.cat.Table(t.Owner.Table)
}

// entityColumns are the columns counted for table t: its person keys, or,
// when the query opted into namespaces, its namespace column for a table
// without person keys.
func (a *analyzer) entityColumns(t *schema.Table) []string {
	if len(t.Entity) > 0 {
		return t.Entity
	}
	if a.namespaces && t.Namespace != "" {
		return []string{t.Namespace}
	}
	return nil
}

// sublink analyses a subquery used as an expression. Its rows are not
// counted at the top, so every table in it with people must be tied to a
// person of the row around it (mb.user_id = m.author_id): then it only
// tells something about people who are counted already.
func (a *analyzer) sublink(sl *pg.SubLink, s *nscope, cx ctx) info {
	sel := sl.Subselect.GetSelectStmt()
	if sl.SubLinkType == pg.SubLinkType_ARRAY_SUBLINK {
		a.c.add(sl.Location, RuleCollecting, "ARRAY(SELECT …) collects the rows of a subquery into one value; only aggregates that reduce rows to a number are allowed")
		return info{}
	}
	if sel == nil {
		return info{}
	}
	inner := &nscope{parent: s, sublink: s.sublink + 1}
	seen := a.narrowSeen
	defer func() {
		if a.narrowSeen > seen {
			a.narrowSeen = seen + 1 // a sublink in a sublink counts once for the outer one
		}
	}()
	var out info
	var ls []*leaf
	scope := inner
	if sel.Op != pg.SetOperation_SETOP_NONE {
		scope = a.withScope(sel.WithClause, inner)
		scope.sublink = inner.sublink
	}
	for _, lsel := range leaves(sel) {
		l := a.leaf(lsel, scope, roleSublink)
		ls = append(ls, l)
		var extra [][2]*pg.ColumnRef
		// x IN (SELECT y …) ties y to x like y = x in its WHERE.
		if sl.SubLinkType == pg.SubLinkType_ANY_SUBLINK && len(lsel.TargetList) == 1 {
			test := sl.Testexpr.GetColumnRef()
			out := lsel.TargetList[0].GetResTarget().GetVal().GetColumnRef()
			if test != nil && out != nil && (len(sl.OperName) == 0 || str(sl.OperName[len(sl.OperName)-1]) == "=") {
				extra = append(extra, [2]*pg.ColumnRef{out, test})
			}
		}
		a.checkTies(l, sl.Location, extra)
	}
	if len(ls) > 0 && len(ls[0].cols) > 0 {
		out = ls[0].cols[0].info
		for _, l := range ls[1:] {
			if len(l.cols) > 0 {
				out = combine(out, l.cols[0].info)
			}
		}
	}
	narrow := a.narrowSeen > seen
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return info{class: schema.Category, narrow: narrow}
	case pg.SubLinkType_EXPR_SUBLINK:
		out.agg = false
		out.narrow = out.narrow || narrow
		out.rel, out.bare = nil, false
		return out
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		test := a.expr(sl.Testexpr, s, cx)
		if test.origin != "" && rowDependent(test) {
			// u.x IN (SELECT g FROM generate_series(0, 204) g): a threshold.
			a.threshold(test.origin, cx)
		}
		for _, side := range []info{test, out} {
			if !restricted(side.class) {
				continue
			}
			switch {
			case cx != ctxPredicate:
				a.restrictedUse(sl.Location, side, "IN/ANY (SELECT …) outside WHERE/ON/FILTER/HAVING")
			case side.class.Sensitive() && !(test.bare && out.bare && test.class == out.class):
				a.restrictedUse(sl.Location, side, "IN (SELECT …) against a value of another class")
			}
		}
		return info{class: schema.Category, agg: test.agg, narrow: narrow || test.narrow}
	}
	return info{class: schema.Category, narrow: narrow}
}

// checkTies reports the tables with people in a subquery expression that
// are not tied, by an equality in its WHERE or JOIN … ON, to an entity
// key of a table outside the subquery.
func (a *analyzer) checkTies(l *leaf, at int32, extra [][2]*pg.ColumnRef) {
	if len(l.carriers) == 0 {
		return
	}
	depth := l.sc.sublink
	// counted reports whether r.column is counted outside the subquery: an
	// entity key (or namespace) of an outer relation.
	counted := func(r resolved) bool {
		if r.rel == nil || r.rel.sublink >= depth {
			return false
		}
		for _, c := range r.rel.carriers {
			if c.owner == "" && c.rel == r.rel && c.column == r.column {
				return true
			}
		}
		return false
	}
	tied := map[string]bool{}
	pair := func(lr, rr *pg.ColumnRef, rs *nscope) {
		li, lok := a.resolveQuiet(lr, l.sc)
		ri, rok := a.resolveQuiet(rr, rs)
		if !lok || !rok {
			return
		}
		for _, p := range [][2]resolved{{li, ri}, {ri, li}} {
			in, out := p[0], p[1]
			for _, c := range l.carriers {
				if c.rel != in.rel || c.column != in.column {
					continue
				}
				switch {
				case c.owner == "" && counted(out):
					tied[c.expr] = true
				case c.owner != "" && out.rel != nil && out.rel.sublink < depth && out.rel.table != nil &&
					out.rel.table.Name == c.owner && out.column == "id" && len(out.rel.carriers) > 0:
					tied[c.expr] = true // the owner's row is counted outside
				}
			}
		}
	}
	for _, p := range equalities(l.sel) {
		pair(p[0], p[1], l.sc)
	}
	for _, p := range extra {
		pair(p[0], p[1], l.sc.parent) // the left side of IN is outside
	}
	for _, c := range l.carriers {
		if c.rel == nil {
			a.c.add(at, RuleEntity,
				"a subquery here reads a subquery or CTE with people in it (%s), whom metricgate cannot count from inside an expression: join it in FROM instead", c.what)
			return
		}
		if tied[c.expr] {
			continue
		}
		if c.owner != "" {
			a.c.add(at, RuleEntity,
				"this subquery reads %s, whose rows belong to %s rows and so to people (%s), but does not tie %s.%s to a %s row around it (%s.%s = <outer alias>.id, for example): they would not be counted. Tie it, or join the table in FROM so that metricgate counts its people",
				c.rel.table.Name, c.owner, c.what, c.rel.alias, c.column, c.owner, c.rel.alias, c.column)
			continue
		}
		a.c.add(at, RuleEntity,
			"this subquery reads %s, whose rows belong to people (%s), but does not tie %s to the person of the row around it (%s = <outer alias>.author_id, for example): they would not be counted. Tie it, or join the table in FROM so that metricgate counts its people",
			c.rel.table.Name, c.what, c.expr, c.expr)
	}
}

// equalities returns the column = column conjuncts of a SELECT's WHERE and
// of the ON of its joins.
func equalities(sel *pg.SelectStmt) [][2]*pg.ColumnRef {
	out := equalitiesOf(sel.WhereClause)
	var joins func(n *pg.Node)
	joins = func(n *pg.Node) {
		if j := n.GetJoinExpr(); j != nil {
			if j.Jointype == pg.JoinType_JOIN_INNER {
				out = append(out, equalitiesOf(j.Quals)...)
			}
			joins(j.Larg)
			joins(j.Rarg)
		}
	}
	for _, f := range sel.FromClause {
		joins(f)
	}
	return out
}

// aliasesOf returns the names of the relations of a FROM item.
func aliasesOf(n *pg.Node) map[string]bool {
	out := map[string]bool{}
	var walk func(n *pg.Node)
	walk = func(n *pg.Node) {
		switch x := n.GetNode().(type) {
		case *pg.Node_RangeVar:
			name := x.RangeVar.Relname
			if x.RangeVar.Alias != nil {
				name = x.RangeVar.Alias.Aliasname
			}
			out[name] = true
		case *pg.Node_RangeSubselect:
			if x.RangeSubselect.Alias != nil {
				out[x.RangeSubselect.Alias.Aliasname] = true
			}
		case *pg.Node_JoinExpr:
			walk(x.JoinExpr.Larg)
			walk(x.JoinExpr.Rarg)
		}
	}
	walk(n)
	return out
}

// checkHaving keeps HAVING to its plain form: comparisons of one aggregate
// of the group's rows, without FILTER or condition, with a literal, AND-ed
// (HAVING count(DISTINCT author_id) >= 20). Which rows load is itself
// published: mod(floor((sum(x) FILTER (<before D + 1>) - sum(x) FILTER
// (<before D>)) / CASE <the week> … END), 2) = 1 loaded one row per bit of
// one person's value (round 28), and a subquery's HAVING has no cells to
// set to NULL.
func (a *analyzer) checkHaving(having *pg.Node) {
	for _, n := range andConjuncts(having) {
		e := n.GetAExpr()
		ok := e != nil && e.Kind == pg.A_Expr_Kind_AEXPR_OP && len(e.Name) == 1 && comparisonOps[str(e.Name[0])] &&
			(plainAggregate(e.Lexpr) && isLiteral(e.Rexpr) || isLiteral(e.Lexpr) && plainAggregate(e.Rexpr))
		if !ok {
			a.c.add(nodeLocation(n), RuleEntity,
				"HAVING decides which rows load, so what it computes is published too: compare one aggregate without FILTER (count(*), count(DISTINCT …), sum(x) of a column) with a literal, AND-ed: HAVING count(DISTINCT author_id) >= 20")
		}
	}
}

// plainAggregate reports whether n is an aggregate call without FILTER,
// DISTINCT other than count's, or ORDER BY, of * or of bare columns.
func plainAggregate(n *pg.Node) bool {
	f := n.GetFuncCall()
	if f == nil || f.AggFilter != nil || f.Over != nil || len(f.AggOrder) > 0 || !isAggregateCall(f) {
		return false
	}
	for _, arg := range f.Args {
		if arg.GetColumnRef() == nil {
			return false
		}
	}
	return true
}

// correlatedByKey reports whether a LATERAL subquery's WHERE ties an id of
// its own tables to a column of the row around it (d.environment_id =
// f.environment_id): its aggregates are then that id's.
func (a *analyzer) correlatedByKey(sel *pg.SelectStmt, sc *nscope) bool {
	for _, eq := range equalitiesOf(sel.WhereClause) {
		l, lok := a.resolveQuiet(eq[0], sc)
		r, rok := a.resolveQuiet(eq[1], sc)
		if !lok || !rok || l.rel == nil || r.rel == nil {
			continue
		}
		inner := func(x resolved) bool { return slices.Contains(sc.rels, x.rel) }
		for _, p := range [][2]resolved{{l, r}, {r, l}} {
			if inner(p[0]) && !inner(p[1]) && p[0].info.bare && p[0].info.class == schema.Key {
				return true
			}
		}
	}
	return false
}

// equalitiesOf returns the column = column conjuncts of a predicate.
func equalitiesOf(pred *pg.Node) [][2]*pg.ColumnRef {
	var out [][2]*pg.ColumnRef
	var conj func(n *pg.Node)
	conj = func(n *pg.Node) {
		if n == nil {
			return
		}
		if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
			for _, arg := range b.Args {
				conj(arg)
			}
			return
		}
		e := n.GetAExpr()
		if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || str(e.Name[0]) != "=" {
			return
		}
		if lr, rr := e.Lexpr.GetColumnRef(), e.Rexpr.GetColumnRef(); lr != nil && rr != nil {
			out = append(out, [2]*pg.ColumnRef{lr, rr})
		}
	}
	conj(pred)
	return out
}

// analyzeEntities resolves and classifies the whole statement, follows the
// people behind its rows, and rewrites it to count them (rewrite.go).
func (c *checker) analyzeEntities(sel *pg.SelectStmt, an *Analysis, o Options, at int32) {
	a := &analyzer{c: c, cat: c.g.cat, using: map[*rel]bool{}, namespaces: o.Namespaces}
	var sc *nscope
	if sel.Op != pg.SetOperation_SETOP_NONE {
		for _, s := range setOpsOf(sel) {
			if s.Op != pg.SetOperation_SETOP_UNION {
				c.add(at, RuleEntity, "%s at the top level compares result rows across branches; load each branch as its own query and combine them in the warehouse",
					strings.TrimPrefix(s.Op.String(), "SETOP_"))
				break
			}
		}
		sc = a.withScope(sel.WithClause, nil)
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		c.branchTables(sel)
	}
	seen := map[string]bool{}
	var w *wrapper
	if wrappable(sel) {
		w = &wrapper{refs: map[string]string{}}
	}
	for _, lsel := range leaves(sel) {
		l := a.leaf(lsel, sc, roleTop)
		people := slices.ContainsFunc(l.carriers, func(c carrier) bool { return !c.picked })
		if !people && !slices.ContainsFunc(l.sc.rels, func(r *rel) bool { return r.unknown }) {
			from := at
			if len(lsel.FromClause) > 0 {
				from = nodeLocation(lsel.FromClause[0])
			}
			c.add(from, RuleEntity,
				"no table read here has people behind its rows (entity keys in %s), so metricgate cannot count who stands behind each output row: read a table with people (issues, merge_requests, notes, events, ci_pipelines, …); for data that belongs to namespaces, not people, add the header entity: namespace",
				a.catalogFile())
			continue
		}
		for _, cr := range l.carriers {
			if !seen[cr.what] {
				seen[cr.what] = true
				an.Entities = append(an.Entities, cr.what)
			}
		}
		a.rewriteTop(l, kMarker, at, w)
	}
	a.checkPicks()
	if a.rewriteFailed && len(c.vs) == 0 {
		c.add(at, RuleRewrite, "metricgate could not add its entity counts to this query's text; simplify the select list (and tell the metricgate maintainers)")
	}
	an.rewritten, an.inserts = a.apply()
}

// branchTables refuses two branches of a top-level set operation that
// read one table (directly or through a CTE): their rows can overlap, and
// 'before' and 'through' branches over users, WHERE created_at < D and < D
// + 1, or GROUP BY of those two conditions, subtract to one day's sign-ups.
// Rows of one SELECT are disjoint groups; branches over different tables
// (issues, merge requests, pipelines) are too.
func (c *checker) branchTables(sel *pg.SelectStmt) {
	ctes := map[string]*pg.Node{}
	if sel.WithClause != nil {
		for _, n := range sel.WithClause.Ctes {
			if ce := n.GetCommonTableExpr(); ce != nil {
				ctes[ce.Ctename] = ce.Ctequery
			}
		}
	}
	var tables func(n *pg.Node, out map[string]bool, depth int)
	tables = func(n *pg.Node, out map[string]bool, depth int) {
		if n == nil || depth > 20 {
			return
		}
		if rv := n.GetRangeVar(); rv != nil {
			if q, ok := ctes[rv.Relname]; ok && rv.Schemaname == "" {
				tables(q, out, depth+1)
			} else {
				out[rv.Relname] = true
			}
			return
		}
		children(inner(n), func(ch *pg.Node) { tables(ch, out, depth) })
	}
	owner := map[string]int{}
	for i, l := range leaves(sel) {
		read := map[string]bool{}
		for _, f := range l.FromClause {
			tables(f, read, 0)
		}
		tables(l.WhereClause, read, 0)
		for _, t := range slices.Sorted(maps.Keys(read)) {
			if j, ok := owner[t]; ok && j != i {
				c.add(c.selectKeyword(l, 0), RuleEntity,
					"branches %d and %d of this top-level UNION ALL both read %s: their rows can overlap, and two rows that differ by a few people tell those people's values; write one SELECT that groups by a category (or uses FILTER), or load each branch as its own query",
					j+1, i+1, t)
				return
			}
			owner[t] = i
		}
	}
}

func setOpsOf(sel *pg.SelectStmt) []*pg.SelectStmt {
	if sel == nil || sel.Op == pg.SetOperation_SETOP_NONE {
		return nil
	}
	return append(append([]*pg.SelectStmt{sel}, setOpsOf(sel.Larg)...), setOpsOf(sel.Rarg)...)
}
