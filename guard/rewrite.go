package guard

import (
	"fmt"
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// The rewrite adds to the query text, never changes what is there:
//
//   - every subquery in FROM and every CTE whose rows come from tables with
//     people gets hidden columns (__mg_eN) that carry those people's ids:
//     passed through a SELECT that keeps rows, collected per group
//     (string_agg(DISTINCT …)) by one that aggregates;
//   - the top-level SELECT gets two hidden columns: __mg_entities, the
//     smallest number of distinct people behind the row among the tables it
//     aggregates (count(DISTINCT …) of each carrier), and __mg_cells, the
//     number of its aggregate cells set to NULL;
//   - every aggregate of the top-level SELECT except a plain count(*) is a
//     cell of its own: CASE WHEN <the people behind the rows it reads, under
//     its FILTER and where its argument is not NULL, are at least k> THEN
//     <the aggregate> END.
//
// A top-level SELECT that is the whole statement (no set operation,
// DISTINCT or window) is wrapped instead: SELECT <each column, a cell
// under its condition>, __mg_entities, __mg_cells FROM (<the query with
// each distinct count as a hidden column>) AS __mg_r(…), LATERAL (<the
// counts of list carriers and the atoms>) AS __mg_x. Each count is then
// computed once, and the atoms of the row (its rows grouped by which of
// its additive cells' conditions they meet) are checked: none may hold
// 1 to k−1 people, else the cells split from the row are NULL.
//
// The runner drops the rows whose __mg_entities is below min_group_size
// and strips both hidden columns before anything is written. Because the
// text is only added to, positions in the query file map back exactly.

// HiddenColumns is the number of hidden columns the rewrite appends to the
// top-level select list: __mg_entities and __mg_cells, in that order.
const HiddenColumns = 2

type insertion struct {
	at   int32
	text string
	seq  int
}

func (a *analyzer) insert(at int32, text string) {
	if at < 0 {
		a.rewriteFailed = true
		return
	}
	a.inserts = append(a.inserts, insertion{at: at, text: text, seq: len(a.inserts)})
}

// stopWords end a select list.
var stopWords = set("from", "where", "group", "having", "window", "order", "limit", "offset",
	"fetch", "union", "intersect", "except", "for", "into")

// exprEnd returns the offset where the expression starting at from ends:
// at a comma (when commas end it), a clause keyword or a closing
// parenthesis at its own level, a semicolon or the end of the text.
func (a *analyzer) exprEnd(from int32, commas bool) int32 {
	depth := 0
	toks := a.c.scan()
	nextWord := func(i int) string {
		for j := i + 1; j < len(toks); j++ {
			if toks[j].Token != pg.Token_SQL_COMMENT && toks[j].Token != pg.Token_C_COMMENT {
				return strings.ToLower(a.c.src[toks[j].Start:toks[j].End])
			}
		}
		return ""
	}
	for i, t := range toks {
		if t.Start < from || t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT {
			continue
		}
		w := a.c.src[t.Start:t.End]
		lw := strings.ToLower(w)
		if (lw == "group" || lw == "order") && nextWord(i) != "by" {
			continue // WITHIN GROUP (…)
		}
		switch {
		case w == "(" || w == "[":
			depth++
		case w == ")" || w == "]":
			if depth == 0 {
				return a.trimBack(t.Start)
			}
			depth--
		case depth == 0 && (w == ";" || commas && w == ","):
			return a.trimBack(t.Start)
		case depth == 0 && stopWords[strings.ToLower(w)] && t.KeywordKind != pg.KeywordKind_NO_KEYWORD:
			return a.trimBack(t.Start)
		}
	}
	return a.trimBack(int32(len(a.c.src)))
}

// trimBack moves an end offset back over blanks and comments, to the end
// of the last token before it.
func (a *analyzer) trimBack(at int32) int32 {
	end := int32(-1)
	for _, t := range a.c.scan() {
		if t.End > at {
			break
		}
		if t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT {
			continue
		}
		end = t.End
	}
	if end < 0 {
		return at
	}
	return end
}

// targetsEnd is where the select list of sel ends.
func (a *analyzer) targetsEnd(sel *pg.SelectStmt) int32 {
	if len(sel.TargetList) == 0 {
		return -1
	}
	rt := sel.TargetList[len(sel.TargetList)-1].GetResTarget()
	if rt == nil || rt.Location < 0 {
		return -1
	}
	return a.exprEnd(rt.Location, false)
}

// aggSpan returns the text span of an aggregate call: its name, arguments,
// WITHIN GROUP (…) and FILTER (…).
func (a *analyzer) aggSpan(f *pg.FuncCall) (int32, int32) {
	toks := a.c.scan()
	i := slices.IndexFunc(toks, func(t *pg.ScanToken) bool { return t.Start >= f.Location })
	if i < 0 {
		return -1, -1
	}
	// The argument list.
	for i < len(toks) && a.c.src[toks[i].Start:toks[i].End] != "(" {
		i++
	}
	end, next := a.matchParen(toks, i)
	if end < 0 {
		return -1, -1
	}
	word := func(j int) string {
		if j >= len(toks) {
			return ""
		}
		return strings.ToLower(a.c.src[toks[j].Start:toks[j].End])
	}
	if word(next) == "within" && word(next+1) == "group" {
		end, next = a.matchParen(toks, next+2)
	}
	if word(next) == "filter" {
		end, _ = a.matchParen(toks, next+1)
	}
	return f.Location, end
}

// matchParen returns the end of the parenthesised group opening at toks[i]
// and the index of the token after it.
func (a *analyzer) matchParen(toks []*pg.ScanToken, i int) (int32, int) {
	if i >= len(toks) || a.c.src[toks[i].Start:toks[i].End] != "(" {
		return -1, i
	}
	depth := 0
	for j := i; j < len(toks); j++ {
		switch a.c.src[toks[j].Start:toks[j].End] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return toks[j].End, j + 1
			}
		}
	}
	return -1, len(toks)
}

// deparse renders one expression as SQL.
func deparse(n *pg.Node) (string, error) {
	tree := &pg.ParseResult{Version: pgVersion, Stmts: []*pg.RawStmt{{Stmt: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
		TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}},
		Op:         pg.SetOperation_SETOP_NONE,
	}}}}}}
	s, err := pg.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(s, "SELECT "), nil
}

func isConst(n *pg.Node) bool {
	switch x := n.GetNode().(type) {
	case *pg.Node_AConst:
		return true
	case *pg.Node_TypeCast:
		return isConst(x.TypeCast.Arg)
	}
	return false
}

// entityCount is the SQL counting the distinct people of carrier c, under
// filter (SQL, or "").
func entityCount(c carrier, filter string) string {
	f := ""
	if filter != "" {
		f = " FILTER (WHERE " + filter + ")"
	}
	if c.rows {
		return "count(*)" + f
	}
	if !c.list {
		return "count(DISTINCT " + c.expr + ")" + f
	}
	return "(SELECT count(DISTINCT __mg_v) FROM unnest(string_to_array(string_agg(" + c.expr + ", ',')" + f + ", ',')) AS __mg_u(__mg_v))"
}

// counter is the SQL counting the distinct people of carrier c under
// filter: entityCount written in place, or a reference to a count the
// wrapped query computes once (wrapper.count).
type counter func(c carrier, filter string) string

// leastTerm is carrier c's count under filter as a term of least(): a
// count that may be zero is NULL when it is, which least() skips.
func leastTerm(count counter, c carrier, filter string) string {
	if c.zeroOK {
		return "nullif(" + count(c, filter) + ", 0)"
	}
	return count(c, filter)
}

// atLeast is the SQL condition that carrier c has at least kk people
// under filter (none or at least kk when it may be zero).
func atLeast(count counter, c carrier, filter, kk string) string {
	if c.zeroOK {
		return "coalesce(" + leastTerm(count, c, filter) + " >= " + kk + ", TRUE)"
	}
	return count(c, filter) + " >= " + kk
}

// wrapper collects the counts of a top-level SELECT that is rewritten by
// wrapping: the SELECT computes each distinct count once, as a hidden
// column, and an outer SELECT around it decides its cells from them.
// Written in place, every condition would count its people again, once
// per cell and once more for __mg_cells.
type wrapper struct {
	inner []string          // hidden columns of the wrapped SELECT: "expr AS name"
	names []string          // their names, in order
	refs  map[string]string // count expression → the outer query's reference
	lists []string          // the outer LATERAL's counts of list carriers
}

// count registers carrier c's count under filter and returns the outer
// query's reference to it.
func (w *wrapper) count(c carrier, filter string) string {
	f := ""
	if filter != "" {
		f = " FILTER (WHERE " + filter + ")"
	}
	e := "count(DISTINCT " + c.expr + ")" + f
	switch {
	case c.rows:
		e = "count(*)" + f
	case c.list:
		e = "string_agg(" + c.expr + ", ',')" + f
	}
	if ref, ok := w.refs[e]; ok {
		return ref
	}
	name := fmt.Sprintf("__mg_n%d", len(w.inner)+1)
	w.inner = append(w.inner, e+" AS "+name)
	w.names = append(w.names, name)
	ref := "__mg_r." + name
	if c.list {
		l := fmt.Sprintf("__mg_l%d", len(w.lists)+1)
		w.lists = append(w.lists, "(SELECT count(DISTINCT __mg_v) FROM unnest(string_to_array("+ref+", ',')) AS __mg_u(__mg_v)) AS "+l)
		ref = "__mg_x." + l
	}
	w.refs[e] = ref
	return ref
}

// wrappable reports whether a top-level SELECT can be rewritten by
// wrapping: one SELECT (no set operation), no DISTINCT, no star, and no
// window function over its rows (a window over a cell must see the cell
// as suppressed, which only the cell written in place does).
func wrappable(sel *pg.SelectStmt) bool {
	if sel.Op != pg.SetOperation_SETOP_NONE || len(sel.DistinctClause) > 0 || len(sel.TargetList) == 0 {
		return false
	}
	window := false
	var walk func(n *pg.Node)
	walk = func(n *pg.Node) {
		if n == nil || window {
			return
		}
		switch x := n.Node.(type) {
		case *pg.Node_FuncCall:
			if x.FuncCall.Over != nil {
				window = true
				return
			}
		case *pg.Node_SubLink:
			return
		case *pg.Node_ColumnRef:
			if isStar(x.ColumnRef) {
				window = true // a star: the columns are not known here
				return
			}
		}
		children(inner(n), walk)
	}
	for _, tn := range sel.TargetList {
		walk(tn)
	}
	for _, sn := range sel.SortClause {
		walk(sn)
	}
	walk(sel.HavingClause)
	return !window
}

// conditions returns, deparsed, the outermost conditions inside
// aggregate arguments: comparisons, boolean operators, NULL and boolean
// tests, subqueries, and the WHEN of CASE.
func conditions(args []*pg.Node) []string {
	var out []string
	var walk func(n *pg.Node)
	add := func(n *pg.Node) {
		if s, err := deparse(n); err == nil {
			out = append(out, s)
		}
	}
	walk = func(n *pg.Node) {
		if n == nil {
			return
		}
		switch x := n.Node.(type) {
		case *pg.Node_AExpr:
			if x.AExpr.Kind != pg.A_Expr_Kind_AEXPR_OP || len(x.AExpr.Name) > 0 && comparisonOps[str(x.AExpr.Name[len(x.AExpr.Name)-1])] ||
				len(x.AExpr.Name) > 0 && (regexOps[str(x.AExpr.Name[len(x.AExpr.Name)-1])] || strings.Contains(str(x.AExpr.Name[len(x.AExpr.Name)-1]), "~~")) {
				if x.AExpr.Kind != pg.A_Expr_Kind_AEXPR_NULLIF {
					add(n)
					return
				}
			}
		case *pg.Node_BoolExpr, *pg.Node_NullTest, *pg.Node_BooleanTest, *pg.Node_SubLink:
			add(n)
			return
		case *pg.Node_CoalesceExpr:
			// coalesce(x, 0) gives the rows where x is NULL a constant:
			// the rows where it is not are a side of their own.
			for _, arg := range x.CoalesceExpr.Args[:max(len(x.CoalesceExpr.Args)-1, 0)] {
				if s, err := deparse(arg); err == nil {
					out = append(out, "("+s+") IS NOT NULL")
				}
			}
		case *pg.Node_CaseExpr:
			ce := x.CaseExpr
			for _, w := range ce.Args {
				cw := w.GetCaseWhen()
				if cw == nil {
					continue
				}
				if ce.Arg != nil {
					l, lerr := deparse(ce.Arg)
					r, rerr := deparse(cw.Expr)
					if lerr == nil && rerr == nil {
						out = append(out, "("+l+") = ("+r+")")
					}
				} else {
					add(cw.Expr)
				}
				walk(cw.Result)
			}
			walk(ce.Defresult)
			return
		}
		children(inner(n), walk)
	}
	for _, a := range args {
		walk(a)
	}
	return out
}

// conditionsFailed reports a condition conditions could not deparse.
func conditionsFailed(args []*pg.Node) bool {
	failed := false
	var walk func(n *pg.Node)
	walk = func(n *pg.Node) {
		if n == nil || failed {
			return
		}
		if x, ok := n.Node.(*pg.Node_CaseExpr); ok {
			for _, w := range x.CaseExpr.Args {
				if cw := w.GetCaseWhen(); cw != nil {
					if _, err := deparse(cw.Expr); err != nil {
						failed = true
					}
				}
			}
		}
		children(inner(n), walk)
	}
	for _, a := range args {
		walk(a)
	}
	return failed
}

// topAggregates returns the aggregate calls of the top level of n, outside
// subqueries.
func topAggregates(n *pg.Node, out *[]*pg.FuncCall) {
	if n == nil {
		return
	}
	switch x := n.Node.(type) {
	case *pg.Node_FuncCall:
		if isAggregateCall(x.FuncCall) && x.FuncCall.Over == nil {
			*out = append(*out, x.FuncCall)
			return
		}
	case *pg.Node_SubLink:
		return
	}
	children(inner(n), func(ch *pg.Node) { topAggregates(ch, out) })
}

// rewriteTop adds the cells and the hidden columns to one top-level SELECT
// (or branch). at is where the statement starts; w is non-nil when the
// SELECT is the whole statement and wrappable: its cells are then decided
// by an outer SELECT from counts the SELECT computes once.
func (a *analyzer) rewriteTop(l *leaf, kk string, at int32, w *wrapper) {
	if len(l.carriers) == 0 {
		return
	}
	// cell returns the condition under which aggregate f may be shown
	// ("" when its rows are the row's), its counts made with count, and
	// the conditions that split its rows from the row's (its FILTER, its
	// NULL tests, the conditions inside its argument).
	cell := func(f *pg.FuncCall, count counter) (string, []string) {
		var filterPart string
		if f.AggFilter != nil {
			s, err := deparse(f.AggFilter)
			if err != nil {
				a.rewriteFailed = true
				return "", nil
			}
			filterPart = "(" + s + ")"
		}
		args := slices.Clone(f.Args)
		for _, o := range f.AggOrder {
			if sb := o.GetSortBy(); sb != nil {
				args = append(args, sb.Node)
			}
		}
		// The arguments that may be NULL, and the column each is when it
		// is a bare one.
		type nullArg struct {
			sql string
			col resolved
		}
		var nullable []nullArg
		var nullableSQL []string // the NULL tests that split the value's rows
		for _, arg := range args {
			if isConst(arg) || a.muted(func() info { return a.expr(arg, l.sc, ctxValue) }).notNull {
				continue // never NULL: narrows nothing
			}
			s, err := deparse(arg)
			if err != nil {
				a.rewriteFailed = true
				return "", nil
			}
			na := nullArg{sql: "(" + s + ") IS NOT NULL"}
			if ref := arg.GetColumnRef(); ref != nil {
				na.col, _ = a.resolveQuiet(ref, l.sc)
			}
			nullable = append(nullable, na)
			// sum(x) and count(DISTINCT x) of a bare column are the same
			// over all rows as over those where x is not NULL: its NULL
			// test splits nothing off their value.
			if name, _ := funcName(f); arg.GetColumnRef() == nil || !(name == "sum" || name == "count" && f.AggDistinct) {
				nullableSQL = append(nullableSQL, na.sql)
			}
		}
		if filterPart == "" && len(nullable) == 0 {
			return "", nil // the cell's rows are the row's: counted there
		}
		// nullableOf are the NULL tests that narrow carrier c's people: not
		// the test of c's own column (count(DISTINCT u.id) FILTER (WHERE
		// u.id IS NOT NULL) is count(DISTINCT u.id), and no person of c is
		// in the rows where it is NULL).
		nullableOf := func(c carrier) []string {
			var out []string
			for _, na := range nullable {
				if na.col.rel != nil && !c.list && c.owner == "" && na.col.rel == c.rel && na.col.column == c.column {
					continue
				}
				out = append(out, na.sql)
			}
			return out
		}
		filterOf := func(c carrier) string {
			parts := nullableOf(c)
			if filterPart != "" {
				parts = append([]string{filterPart}, parts...)
			}
			return strings.Join(parts, " AND ")
		}
		var counts []string
		for _, c := range l.carriers {
			counts = append(counts, leastTerm(count, c, filterOf(c)))
		}
		cond := "least(" + strings.Join(counts, ", ") + ") >= " + kk
		if f.AggFilter != nil {
			// The rows the FILTER leaves out are a cell too: with the
			// row's other aggregates, a cell of everyone but one person
			// tells that person's share. At least k people must be left
			// out (none left out would tell, by the cell being shown,
			// that a condition held for everyone, one person included).
			s, _ := deparse(f.AggFilter)
			out := "NOT (" + s + ") OR (" + s + ") IS NULL"
			for _, c := range l.carriers {
				cond += " AND " + atLeast(count, c, out, kk)
			}
		}
		// The rows whose argument is NULL are left out as a FILTER would
		// leave them out: count(x) next to count(*), or sum(y + z * 0),
		// is a cell of the few people whose x or z is NULL. They must be
		// none or at least k.
		base := "TRUE"
		if f.AggFilter != nil {
			base = filterPart
		}
		for _, c := range l.carriers {
			if nc := nullableOf(c); len(nc) > 0 {
				left := base + " AND NOT (" + strings.Join(nc, " AND ") + ")"
				n := count(c, left)
				// No person is no rows: rows without a person (a pending
				// invitation, members.user_id NULL) are few rows too.
				none := count(carrier{rows: true}, left)
				if c.zeroOK {
					none = n // a namespace's rows need not name anyone
				}
				cond += " AND (" + none + " = 0 OR " + n + " >= " + kk + ")"
			}
		}
		// A condition inside the argument (CASE WHEN, a comparison cast
		// to a number, EXISTS) weights some rows against the others: the
		// rows on each side of it are cells too, else
		// sum(CASE WHEN <one row> THEN 1 ELSE 0 END) tells about that row.
		for _, c := range conditions(args) {
			for _, cr := range l.carriers {
				cond += " AND " + atLeast(count, cr, base+" AND ("+c+")", kk) +
					" AND " + atLeast(count, cr, base+" AND ("+c+") IS NOT TRUE", kk)
			}
		}
		if conditionsFailed(args) {
			a.rewriteFailed = true
			return "", nil
		}
		bits := slices.Clone(nullableSQL)
		if filterPart != "" {
			bits = append(bits, filterPart)
		}
		for _, c := range conditions(args) {
			bits = append(bits, "("+c+")")
		}
		return cond, bits
	}
	// inPlace wraps aggregate f in CASE WHEN <its condition> THEN … END
	// where it stands, and returns the condition.
	inPlace := func(f *pg.FuncCall) (string, []string) {
		cond, bits := cell(f, entityCount)
		if cond == "" {
			return "", nil
		}
		start, end := a.aggSpan(f)
		if start < 0 || end < 0 {
			a.rewriteFailed = true
			return "", nil
		}
		a.insert(start, "CASE WHEN "+cond+" THEN ")
		a.insert(end, " END")
		return cond, bits
	}
	suppressed := func(conds []string) string {
		if len(conds) == 0 {
			return "0"
		}
		var b []string
		for _, c := range conds {
			b = append(b, "(CASE WHEN "+c+" THEN 0 ELSE 1 END)")
		}
		return strings.Join(b, " + ")
	}
	// HAVING and ORDER BY read their aggregates in place, where a cell
	// must already be NULL (HAVING count(*) FILTER (…) = count(*) keeps or
	// drops a row by a cell, ORDER BY orders by it).
	var inPlaceConds []string
	var having []*pg.FuncCall
	topAggregates(l.sel.HavingClause, &having)
	for _, s := range l.sel.SortClause {
		if sb := s.GetSortBy(); sb != nil {
			topAggregates(sb.Node, &having)
		}
	}
	for _, f := range having {
		if c, _ := inPlace(f); c != "" {
			inPlaceConds = append(inPlaceConds, c)
		}
	}
	if w == nil {
		var conds []string
		sets := map[string]bool{}
		for _, tn := range l.sel.TargetList {
			rt := tn.GetResTarget()
			if rt == nil {
				continue
			}
			var aggs []*pg.FuncCall
			topAggregates(rt.Val, &aggs)
			for _, f := range aggs {
				c, bits := inPlace(f)
				if c != "" {
					conds = append(conds, c)
				}
				if name, _ := funcName(f); additive[name] && len(bits) > 0 {
					sets[strings.Join(slices.Sorted(slices.Values(bits)), "\x00")] = true
				}
			}
			if len(sets) == 2 {
				// Without the wrapping SELECT there are no atoms (see
				// below) to check that the cells do not subtract to a
				// few people.
				a.c.add(rt.Location, RuleEntity,
					"a second FILTER (or NULL test, or CASE WHEN) that splits this row's rows differently from another, in a query whose top level is a set operation, SELECT DISTINCT or has a window function: two such cells can subtract to a few people, which metricgate checks only in a plain SELECT; load each branch as its own query, or keep to one condition per row")
				sets[""] = true // reported once
			}
			if len(aggs) > 0 && rt.Name == "" {
				// Keep the name PostgreSQL gives the column: CASE would
				// rename count(…) to "case".
				a.insert(a.exprEnd(rt.Location, true), " AS "+quoteIdent(outputName(rt)))
			}
		}
		var counts []string
		for _, c := range l.carriers {
			counts = append(counts, leastTerm(entityCount, c, ""))
		}
		a.insert(l.insertAt, fmt.Sprintf(", least(%s) AS __mg_entities, %s AS __mg_cells ",
			strings.Join(counts, ", "), suppressed(append(inPlaceConds, conds...))))
		return
	}
	// Wrapped: SELECT <each column, a cell under its conditions>,
	// __mg_entities, __mg_cells FROM (<the query, with its counts>) AS
	// __mg_r(…), LATERAL (<the counts of list carriers>) AS __mg_x.
	type target struct {
		col, name string
		conds     []string // one per cell
		split     []bool   // whether that cell is additive and split from the row
	}
	var targets []target
	var aliases []string
	bitIndex := map[string]bool{}
	var bits []string
	cellSets := map[string]bool{} // the distinct sets of conditions of additive cells
	for i, tn := range l.sel.TargetList {
		rt := tn.GetResTarget()
		if rt == nil {
			a.rewriteFailed = true
			return
		}
		tg := target{col: fmt.Sprintf("__mg_c%d", i+1), name: quoteIdent(outputName(rt))}
		aliases = append(aliases, tg.col)
		var aggs []*pg.FuncCall
		topAggregates(rt.Val, &aggs)
		for _, f := range aggs {
			c, bs := cell(f, w.count)
			if c == "" {
				continue
			}
			name, _ := funcName(f)
			tg.conds = append(tg.conds, c)
			tg.split = append(tg.split, additive[name] && len(bs) > 0)
			if additive[name] {
				if len(bs) > 0 {
					cellSets[strings.Join(slices.Sorted(slices.Values(bs)), "\x00")] = true
				}
				for _, b := range bs {
					if !bitIndex[b] {
						bitIndex[b] = true
						bits = append(bits, b)
					}
				}
			}
		}
		targets = append(targets, tg)
	}
	// The atoms of the row: its rows grouped by which of its additive
	// cells' conditions they meet. Two cells whose conditions differ by
	// a few people (created_at < D and < D + 1), or a total next to the
	// visible cells of a suppressed one, subtract to those few people; so
	// every atom must hold none or at least k people of every carrier,
	// else every additive cell split from the row is set to NULL (the
	// cells over all the row's rows stay). One condition is two atoms,
	// which the cell's own counts check already.
	atoms := ""
	// One cell's own conditions are two atoms each, which its counts check
	// already; atoms are needed once two cells split the row differently.
	if len(bits) >= 2 && len(cellSets) >= 2 {
		var bitSQL []string
		for _, b := range bits {
			bitSQL = append(bitSQL, "CASE WHEN "+b+" THEN '1' ELSE '0' END")
		}
		vector := strings.Join(bitSQL, " || ")
		var mins []string
		for _, c := range l.carriers {
			// Rows without a person of the carrier count as one more
			// person ('-'): an atom of such rows alone is one, not none.
			e := "coalesce((" + c.expr + ")::text, '-') || ':' || " + vector
			if c.list {
				e = "regexp_replace(coalesce(nullif(" + c.expr + ", ''), '-'), '([^,]+)', '\\1:' || " + vector + ", 'g')"
			}
			if c.zeroOK {
				e = "regexp_replace(" + c.expr + ", '([^,]+)', '\\1:' || " + vector + ", 'g')"
			}
			name := fmt.Sprintf("__mg_n%d", len(w.inner)+1)
			w.inner = append(w.inner, "string_agg(DISTINCT "+e+", ',') AS "+name)
			w.names = append(w.names, name)
			m := fmt.Sprintf("__mg_l%d", len(w.lists)+1)
			w.lists = append(w.lists, "(SELECT min(__mg_c) FROM (SELECT count(DISTINCT split_part(__mg_v, ':', 1)) AS __mg_c FROM unnest(string_to_array(__mg_r."+
				name+", ',')) AS __mg_u(__mg_v) WHERE __mg_v <> '' GROUP BY split_part(__mg_v, ':', 2)) AS __mg_a) AS "+m)
			mins = append(mins, "__mg_x."+m)
		}
		atoms = "coalesce(least(" + strings.Join(mins, ", ") + ") >= " + kk + ", TRUE)"
	}
	var outer, conds []string
	for _, tg := range targets {
		var own []string
		for i, c := range tg.conds {
			if atoms != "" && tg.split[i] {
				c += " AND " + atoms
			}
			own = append(own, c)
		}
		conds = append(conds, own...)
		if len(own) == 0 {
			outer = append(outer, "__mg_r."+tg.col+" AS "+tg.name)
			continue
		}
		outer = append(outer, "CASE WHEN ("+strings.Join(own, ") AND (")+") THEN __mg_r."+tg.col+" END AS "+tg.name)
	}
	var counts []string
	for _, c := range l.carriers {
		counts = append(counts, leastTerm(w.count, c, ""))
	}
	cells := suppressed(conds)
	hidden := w.inner
	aliases = append(aliases, w.names...)
	if len(inPlaceConds) > 0 {
		hidden = append(slices.Clone(hidden), suppressed(inPlaceConds)+" AS __mg_h")
		aliases = append(aliases, "__mg_h")
		cells += " + __mg_r.__mg_h"
	}
	a.insert(at, "SELECT "+strings.Join(outer, ", ")+", least("+strings.Join(counts, ", ")+") AS __mg_entities, "+
		cells+" AS __mg_cells FROM (")
	a.insert(l.insertAt, ", "+strings.Join(hidden, ", ")+" ")
	suffix := ") AS __mg_r(" + strings.Join(aliases, ", ") + ")"
	if len(w.lists) > 0 {
		// OFFSET 0 keeps the planner from pulling the counts up into every
		// reference to them, which would count once per reference again.
		suffix += ", LATERAL (SELECT " + strings.Join(w.lists, ", ") + " OFFSET 0) AS __mg_x"
	}
	a.insert(a.stmtEnd(), suffix)
}

// additive aggregates add up their rows: two of them over overlapping rows
// subtract to the rows between (see the atoms in rewriteTop).
var additive = set("count", "sum", "avg", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp")

// stmtEnd is where the statement's last token (before a closing
// semicolon) ends.
func (a *analyzer) stmtEnd() int32 {
	end := int32(-1)
	for _, t := range a.c.scan() {
		if t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT || a.c.src[t.Start:t.End] == ";" {
			continue
		}
		end = t.End
	}
	return end
}

// apply returns the text with every insertion made, and the insertions in
// the order of the text.
func (a *analyzer) apply() (string, []insertion) {
	ins := slices.Clone(a.inserts)
	slices.SortStableFunc(ins, func(x, y insertion) int {
		if x.at != y.at {
			return int(x.at - y.at)
		}
		return x.seq - y.seq
	})
	var b strings.Builder
	prev := int32(0)
	for _, in := range ins {
		b.WriteString(a.c.src[prev:in.at])
		b.WriteString(in.text)
		prev = in.at
	}
	b.WriteString(a.c.src[prev:])
	return b.String(), ins
}

// SourceOffset maps a byte offset in the rewritten SQL (SQL(k), for any k)
// back to the checked text: an offset inside added text maps to where it
// was added.
func (an *Analysis) SourceOffset(off int) int {
	shift := 0
	for _, in := range an.inserts {
		start := int(in.at) + shift
		if off < start {
			break
		}
		if off < start+len(in.text) {
			return int(in.at)
		}
		shift += len(in.text)
	}
	return off - shift
}

// pgVersion is the parse tree version pg_query_go's deparser expects.
var pgVersion = func() int32 {
	tree, err := pg.Parse("SELECT 1")
	if err != nil {
		return 0
	}
	return tree.Version
}()
