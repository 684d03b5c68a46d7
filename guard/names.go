package guard

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

func isStar(r *pg.ColumnRef) bool {
	return len(r.Fields) > 0 && r.Fields[len(r.Fields)-1].GetAStar() != nil
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
