package guard

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// walkGlobal applies the rules that hold anywhere in the statement, at any
// depth: the function allowlist, no INTO, no locking, no data-modifying or
// recursive CTE, no system catalogs, no parameters, no qualified operators or
// types outside pg_catalog. near is the closest known location, used for
// nodes that carry none.
func (c *checker) walkGlobal(m protoreflect.Message, near int32) {
	if l, ok := locationOf(m); ok && l >= 0 {
		near = l
	}
	switch n := m.Interface().(type) {
	case *pg.FuncCall:
		c.checkFunc(n)
	case *pg.SQLValueFunction:
		switch n.Op {
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME,
			pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP,
			pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N, pg.SQLValueFunctionOp_SVFOP_LOCALTIME,
			pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP,
			pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		default:
			c.add(n.Location, RuleFunction, "%s is not allowed: only date/time value functions are",
				strings.ToLower(strings.TrimPrefix(n.Op.String(), "SVFOP_")))
		}
	case *pg.RangeVar:
		schema := strings.ToLower(n.Schemaname)
		switch {
		case n.Catalogname != "":
			c.add(n.Location, RuleSystemCatalog, "cross-database reference %s.%s.%s is not allowed", n.Catalogname, n.Schemaname, n.Relname)
		case schema == "pg_catalog" || schema == "information_schema" || schema == "pg_toast" ||
			strings.HasPrefix(strings.ToLower(n.Relname), "pg_"):
			c.add(n.Location, RuleSystemCatalog, "system catalog %s is not analytics data and may not be read", qualified(n.Schemaname, n.Relname))
		}
	case *pg.IntoClause:
		c.add(c.keyword(near, near, "into"), RuleInto, "SELECT … INTO creates a table: only plain SELECT is allowed")
	case *pg.LockingClause:
		c.add(c.keyword(near, near, "for"), RuleLocking, "locking clause (FOR UPDATE/SHARE) is not allowed: queries run read-only")
	case *pg.WithClause:
		if n.Recursive {
			c.add(n.Location, RuleRecursiveCTE, "WITH RECURSIVE is not allowed: use namespaces.traversal_ids for hierarchies")
		}
	case *pg.CommonTableExpr:
		if n.Ctequery != nil && n.Ctequery.GetSelectStmt() == nil {
			c.add(n.Location, RuleModifyingCTE, "CTE %q is %s: data-modifying CTEs are not allowed", n.Ctename, statementKind(n.Ctequery))
		}
	case *pg.ParamRef:
		c.add(n.Location, RuleParameter, "parameter $%d is not allowed: queries take no parameters", n.Number)
	case *pg.RangeTableSample:
		c.add(n.Location, RuleTableSample, "TABLESAMPLE is not allowed: results must be reproducible")
	case *pg.RangeTableFunc:
		c.add(n.Location, RuleFunction, "XMLTABLE is not allowed")
	case *pg.JsonTable:
		c.add(n.Location, RuleFunction, "JSON_TABLE is not allowed")
	case *pg.XmlExpr:
		c.add(n.Location, RuleFunction, "XML functions are not allowed")
	case *pg.XmlSerialize:
		c.add(n.Location, RuleFunction, "XMLSERIALIZE is not allowed")
	case *pg.JsonArrayAgg:
		c.add(near, RuleCollecting, "JSON_ARRAYAGG collects the rows of a group; only aggregates that reduce them to a number are allowed")
	case *pg.JsonObjectAgg:
		c.add(near, RuleCollecting, "JSON_OBJECTAGG collects the rows of a group; only aggregates that reduce them to a number are allowed")
	case *pg.JsonObjectConstructor, *pg.JsonArrayConstructor, *pg.JsonArrayQueryConstructor,
		*pg.JsonFuncExpr, *pg.JsonParseExpr, *pg.JsonScalarExpr, *pg.JsonSerializeExpr:
		c.add(near, RuleFunction, "SQL/JSON constructors and query functions are not allowed")
	case *pg.GroupingFunc:
		c.add(n.Location, RuleGroupingSets, "GROUPING() is not allowed: GROUPING SETS, ROLLUP and CUBE are not")
	case *pg.A_Expr:
		if len(n.Name) > 1 && !strings.EqualFold(str(n.Name[0]), "pg_catalog") {
			c.add(n.Location, RuleQualifiedOperator, "operator %s is not allowed: only built-in operators are", names(n.Name))
		}
	case *pg.CollateClause:
		if len(n.Collname) > 1 && !strings.EqualFold(str(n.Collname[0]), "pg_catalog") {
			c.add(n.Location, RuleType, "collation %s is not allowed: only built-in collations are", names(n.Collname))
		}
	case *pg.TypeName:
		switch {
		case len(n.Names) > 1 && !strings.EqualFold(str(n.Names[0]), "pg_catalog"):
			c.add(n.Location, RuleType, "type %s is not allowed: only built-in types are", names(n.Names))
		case len(n.Names) > 0 && catalogTypes[strings.ToLower(str(n.Names[len(n.Names)-1]))]:
			c.add(n.Location, RuleSystemCatalog, "type %s is not allowed: a cast to it looks names up in the system catalogs ('pg_authid'::regclass tells whether a table exists)",
				strings.ToLower(str(n.Names[len(n.Names)-1])))
		}
	}
	eachMessage(m, func(ch protoreflect.Message) bool {
		c.walkGlobal(ch, near)
		return true
	})
}

// catalogTypes are the object identifier alias types: casting text to one
// reads the system catalogs.
var catalogTypes = set("regclass", "regcollation", "regconfig", "regdictionary", "regnamespace",
	"regoper", "regoperator", "regproc", "regprocedure", "regrole", "regtype")

// eachMessage calls fn for every message directly held by m (in a field or
// a list), in field order, until fn returns false.
func eachMessage(m protoreflect.Message, fn func(protoreflect.Message) bool) {
	// Fields in the order the message declares them: Range's order is
	// unspecified, and the first location found must not change from one
	// run to the next.
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.MessageKind || !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		if !fd.IsList() {
			if !fn(v.Message()) {
				return
			}
			continue
		}
		l := v.List()
		for j := range l.Len() {
			if !fn(l.Get(j).Message()) {
				return
			}
		}
	}
}

// checkFunc applies the allowlist to one call.
func (c *checker) checkFunc(f *pg.FuncCall) {
	name, schema := funcName(f)
	if schema != "" && schema != "pg_catalog" {
		c.add(f.Location, RuleFunction, "function %s.%s is not allowed: only built-in functions are", schema, name)
		return
	}
	switch {
	case refusedAggregates[name]:
		c.add(f.Location, RuleFunction, "function %s() is not allowed: it hides a product of two values or a condition in its result (regr_sxy(y, x) with x a 0/1 column is the sum of y where x is 1, with nobody counting those rows); aggregate each column with sum() or avg(), and conditions with FILTER", name)
	case f.AggWithinGroup && f.Over == nil && !aggregates[name]:
		c.add(f.Location, RuleFunction, "%s(…) WITHIN GROUP (ORDER BY …) counts the rows that sort before a value, a FILTER nobody counts; only percentile_cont, percentile_disc and mode take WITHIN GROUP", name)
	case collecting[name]:
		c.add(f.Location, RuleCollecting, "%s() collects the rows of a group into one value; only aggregates that reduce them (count, sum, avg, percentile_cont, …) are allowed", name)
	case aggregates[name], scalars[name], windowOnly[name]:
	default:
		why := refusedWhy[name]
		if why == "" {
			for _, p := range refusedPrefixes {
				if strings.HasPrefix(name, p.prefix) {
					why = p.why
					break
				}
			}
		}
		if why == "" {
			why = "it is not on the allowlist of aggregate, math, date/time, string and conditional functions (guard/functions.go)"
		}
		c.add(f.Location, RuleFunction, "function %s() is not allowed: %s", name, why)
	}
}

// funcName returns a call's lower-case name and schema ("" when
// unqualified).
func funcName(f *pg.FuncCall) (name, schema string) {
	parts := make([]string, 0, len(f.Funcname))
	for _, n := range f.Funcname {
		parts = append(parts, strings.ToLower(str(n)))
	}
	switch len(parts) {
	case 0:
		return "", ""
	case 1:
		return parts[0], ""
	}
	return parts[len(parts)-1], strings.Join(parts[:len(parts)-1], ".")
}

// isAggregateCall reports whether f is an aggregate call (not a window).
func isAggregateCall(f *pg.FuncCall) bool {
	if f.Over != nil {
		return false
	}
	name, _ := funcName(f)
	return aggregates[name] || collecting[name] || f.AggStar || f.AggDistinct || f.AggWithinGroup
}

func str(n *pg.Node) string {
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

func names(ns []*pg.Node) string {
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, str(n))
	}
	return strings.Join(parts, ".")
}

func qualified(schema, rel string) string {
	if schema == "" {
		return rel
	}
	return schema + "." + rel
}

// locationOf returns the "location" field of a node message, if it has one.
func locationOf(m protoreflect.Message) (int32, bool) {
	fd := m.Descriptor().Fields().ByName("location")
	if fd == nil || fd.Kind() != protoreflect.Int32Kind {
		return 0, false
	}
	return int32(m.Get(fd).Int()), true
}

// nodeLocation returns the location of n or of its first located
// descendant, or -1.
func nodeLocation(n *pg.Node) int32 {
	if n == nil {
		return -1
	}
	return firstLocation(n.ProtoReflect())
}

func firstLocation(m protoreflect.Message) int32 {
	if l, ok := locationOf(m); ok && l >= 0 {
		return l
	}
	found := int32(-1)
	eachMessage(m, func(ch protoreflect.Message) bool {
		found = firstLocation(ch)
		return found < 0
	})
	return found
}

// children calls fn for every *pg.Node directly reachable from m without
// passing through another *pg.Node.
func children(m protoreflect.Message, fn func(*pg.Node)) {
	eachMessage(m, func(ch protoreflect.Message) bool {
		if n, ok := ch.Interface().(*pg.Node); ok {
			fn(n)
		} else {
			children(ch, fn)
		}
		return true
	})
}

// inner returns the message a Node wraps.
func inner(n *pg.Node) protoreflect.Message {
	m := n.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("node")
	if od == nil {
		return m
	}
	fd := m.WhichOneof(od)
	if fd == nil {
		return m
	}
	return m.Get(fd).Message()
}

// sameExpr compares two expressions structurally, ignoring locations. Column
// references match when their column names match and their qualifiers match
// or one of them is unqualified (the parser resolves both to one column).
func sameExpr(a, b *pg.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameMessage(a.ProtoReflect(), b.ProtoReflect())
}

func sameMessage(a, b protoreflect.Message) bool {
	if a.Descriptor() != b.Descriptor() {
		return false
	}
	switch x := a.Interface().(type) {
	case *pg.Node:
		// A Node is a oneof of ~270 fields: compare the one that is set.
		od := a.Descriptor().Oneofs().ByName("node")
		fa, fb := a.WhichOneof(od), b.WhichOneof(od)
		if fa == nil || fb == nil {
			return fa == fb
		}
		return fa == fb && sameMessage(a.Get(fa).Message(), b.Get(fb).Message())
	case *pg.ColumnRef:
		return sameColumnRef(x, b.Interface().(*pg.ColumnRef))
	}
	equal, na := true, 0
	a.Range(func(fd protoreflect.FieldDescriptor, va protoreflect.Value) bool {
		if fd.Name() == "location" {
			return true
		}
		na++
		if !b.Has(fd) {
			equal = false
			return false
		}
		equal = sameValue(fd, va, b.Get(fd))
		return equal
	})
	if !equal {
		return false
	}
	nb := 0
	b.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.Name() != "location" {
			nb++
		}
		return true
	})
	return na == nb
}

func sameValue(fd protoreflect.FieldDescriptor, va, vb protoreflect.Value) bool {
	switch {
	case fd.IsList():
		la, lb := va.List(), vb.List()
		if la.Len() != lb.Len() {
			return false
		}
		for j := range la.Len() {
			if fd.Kind() == protoreflect.MessageKind {
				if !sameMessage(la.Get(j).Message(), lb.Get(j).Message()) {
					return false
				}
			} else if !la.Get(j).Equal(lb.Get(j)) {
				return false
			}
		}
		return true
	case fd.Kind() == protoreflect.MessageKind:
		return sameMessage(va.Message(), vb.Message())
	}
	return va.Equal(vb)
}

func sameColumnRef(a, b *pg.ColumnRef) bool {
	fa, fb := refNames(a), refNames(b)
	if len(fa) == 0 || len(fb) == 0 {
		return false
	}
	if fa[len(fa)-1] != fb[len(fb)-1] {
		return false
	}
	if len(fa) == 1 || len(fb) == 1 {
		return true
	}
	return fa[len(fa)-2] == fb[len(fb)-2]
}

// refNames returns the name parts of a column reference; a trailing "*"
// stands for A_Star.
func refNames(r *pg.ColumnRef) []string {
	out := make([]string, 0, len(r.Fields))
	for _, f := range r.Fields {
		if f.GetAStar() != nil {
			out = append(out, "*")
			continue
		}
		out = append(out, str(f))
	}
	return out
}

// keySet holds GROUP BY expressions. Lookups go through a structural hash,
// so that checking every node of every output against every key stays
// linear in the size of the query.
type keySet struct {
	c      *checker
	byHash map[uint64][]*pg.Node
}

func (c *checker) newKeySet(keys []*pg.Node) *keySet {
	ks := &keySet{c: c, byHash: map[uint64][]*pg.Node{}}
	for _, k := range keys {
		h := c.hash(k)
		ks.byHash[h] = append(ks.byHash[h], k)
	}
	return ks
}

// has reports whether n is one of the keys (see sameExpr).
func (ks *keySet) has(n *pg.Node) bool {
	if ks == nil || len(ks.byHash) == 0 {
		return false
	}
	for _, k := range ks.byHash[ks.c.hash(n)] {
		ks.c.comparisons++
		if sameExpr(n, k) {
			return true
		}
	}
	return false
}

// hash is a structural hash of n consistent with sameExpr: locations are
// ignored and a column reference hashes by its column name only. Hashes of
// nodes are memoized for the whole check.
func (c *checker) hash(n *pg.Node) uint64 {
	if n == nil {
		return 0
	}
	if h, ok := c.hashes[n]; ok {
		return h
	}
	if c.hashes == nil {
		c.hashes = map[*pg.Node]uint64{}
	}
	h := fnv.New64a()
	c.hashMessage(h, inner(n))
	sum := h.Sum64()
	c.hashes[n] = sum
	return sum
}

func (c *checker) hashMessage(h hash.Hash64, m protoreflect.Message) {
	_, _ = h.Write([]byte(m.Descriptor().FullName()))
	if ref, ok := m.Interface().(*pg.ColumnRef); ok {
		parts := refNames(ref)
		if len(parts) > 0 {
			_, _ = h.Write([]byte(parts[len(parts)-1]))
		}
		return
	}
	var buf [8]byte
	writeNum := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		_, _ = h.Write(buf[:])
	}
	visit := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		if fd.Kind() != protoreflect.MessageKind {
			_, _ = fmt.Fprint(h, v.Interface())
			return
		}
		if n, ok := v.Message().Interface().(*pg.Node); ok {
			writeNum(c.hash(n))
			return
		}
		c.hashMessage(h, v.Message())
	}
	fields := m.Descriptor().Fields() // in declared order: a hash must not depend on Range's
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Name() == "location" || !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		writeNum(uint64(fd.Number()))
		if fd.IsList() {
			l := v.List()
			writeNum(uint64(l.Len()))
			for j := range l.Len() {
				visit(fd, l.Get(j))
			}
			continue
		}
		visit(fd, v)
	}
}
