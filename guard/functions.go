package guard

// The function lists below are the allowlist of the guard. A function that is
// not named here is rejected by name, whatever it does; adding one is a
// reviewed change to this file. Names are compared in lower case, unqualified
// or qualified with pg_catalog.

// aggregates are the aggregate functions that reduce a group to a number, a
// boolean, a date/time or an interval (the runtime type rule checks the
// result type as well).
var aggregates = set(
	"count", "sum", "avg", "min", "max",
	"stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
	"bool_and", "bool_or", "every",
	"percentile_cont", "percentile_disc", "mode",
)

// refusedAggregates are aggregates that hide a condition or a product of
// two values in their result, named for a located message: the two-argument
// statistics (regr_sxy(y, x) is Σxy − ΣxΣy/n, a sum of products; x a 0/1
// column makes it the sum of y over the rows where x is 1), the bit
// aggregates (bit_or tells which bits any row has), and the
// hypothetical-set aggregates (rank(v) WITHIN GROUP (ORDER BY …) counts
// the rows before v, a FILTER nobody counts).
var refusedAggregates = set(
	"corr", "covar_pop", "covar_samp",
	"regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2",
	"regr_slope", "regr_sxx", "regr_sxy", "regr_syy",
	"bit_and", "bit_or", "bit_xor",
)

// collecting are aggregates that carry rows instead of reducing them: their
// result holds the values of the group one by one.
var collecting = set(
	"string_agg", "array_agg", "json_agg", "jsonb_agg", "json_agg_strict",
	"jsonb_agg_strict", "json_object_agg", "jsonb_object_agg",
	"json_object_agg_strict", "jsonb_object_agg_strict",
	"json_object_agg_unique", "jsonb_object_agg_unique",
	"json_object_agg_unique_strict", "jsonb_object_agg_unique_strict",
	"json_arrayagg", "json_objectagg", "xmlagg", "range_agg",
	"range_intersect_agg",
)

// windowOnly are window functions. They are allowed inside subqueries and
// CTEs (to pick, say, the first MR of an issue) but not in the top-level
// select list.
var windowOnly = set(
	"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
	"lag", "lead", "first_value", "last_value", "nth_value",
)

// scalars are the plain functions: math, date/time, string, conditional and
// the few array and JSON accessors analytics queries need.
var scalars = set(
	// math
	"abs", "cbrt", "ceil", "ceiling", "degrees", "div", "exp", "floor", "ln",
	"log", "log10", "mod", "pi", "power", "pow", "radians", "round", "scale",
	"sign", "sqrt", "trunc", "width_bucket", "num_nulls", "num_nonnulls",
	// date and time
	"age", "date_bin", "date_part", "date_trunc", "extract", "isfinite",
	"justify_days", "justify_hours", "justify_interval", "make_date",
	"make_interval", "make_time", "make_timestamp", "make_timestamptz", "now",
	"statement_timestamp", "transaction_timestamp", "timezone", "to_char",
	"to_date", "to_timestamp", "to_number", "overlaps",
	// strings
	"ascii", "bit_length", "btrim", "char_length", "character_length", "chr",
	"concat", "concat_ws", "format", "initcap", "left", "length", "lower",
	"lpad", "ltrim", "octet_length", "overlay", "position", "regexp_count",
	"regexp_like", "regexp_replace", "regexp_substr", "replace", "reverse",
	"right", "rpad", "rtrim", "split_part", "starts_with", "strpos", "substr",
	"substring", "translate", "trim", "upper",
	// arrays (traversal_ids) and set-returning helpers for FROM
	"array_length", "array_lower", "array_upper", "array_position",
	"array_ndims", "cardinality", "unnest", "generate_series",
	// JSON accessors
	"json_array_length", "jsonb_array_length", "json_typeof", "jsonb_typeof",
	"json_extract_path_text", "jsonb_extract_path_text",
)

// refusedWhy explains, for well-known dangerous functions, why they are not
// on the allowlist. Every other unknown function gets the generic message.
var refusedWhy = map[string]string{
	"pg_read_file":        "it reads files on the database server",
	"pg_read_binary_file": "it reads files on the database server",
	"pg_ls_dir":           "it lists files on the database server",
	"pg_stat_file":        "it reads file metadata on the database server",
	"dblink":              "it connects to other databases",
	"dblink_exec":         "it connects to other databases",
	"set_config":          "it changes session settings",
	"current_setting":     "it reads server settings",
	"pg_sleep":            "it holds the snapshot open",
	"pg_sleep_for":        "it holds the snapshot open",
	"pg_sleep_until":      "it holds the snapshot open",
	"nextval":             "it writes to a sequence",
	"setval":              "it writes to a sequence",
	"currval":             "it reads session state",
	"lo_import":           "it reads files into large objects",
	"lo_export":           "it writes files from large objects",
	"lo_get":              "it reads large objects",
	"query_to_xml":        "it runs arbitrary SQL from a string",
	"random":              "results must be reproducible",
	"repeat":              "it can build unbounded strings",
	"any_value":           "it returns one row's value, not an aggregate",
	"median":              "PostgreSQL has no median(); write percentile_cont(0.5) WITHIN GROUP (ORDER BY …)",
	"row_to_json":         "it outputs whole rows",
	"to_json":             "it outputs whole values of rows",
	"to_jsonb":            "it outputs whole values of rows",
	"md5":                 "hashes of values are still the values",
	"sha256":              "hashes of values are still the values",
}

// refusedPrefixes explain whole families.
var refusedPrefixes = []struct{ prefix, why string }{
	{"pg_advisory", "it takes locks"},
	{"pg_try_advisory", "it takes locks"},
	{"txid_", "it reads transaction state"},
	{"pg_current_", "it reads server state"},
	{"lo_", "it touches large objects"},
	{"pg_", "system functions are not analytics"},
	{"dblink", "it connects to other databases"},
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
