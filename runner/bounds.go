package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gitlab.com/metricgate/metricgate/catalog"
)

// Defaults of a source's resource bounds (Source).
const (
	// DefaultMaxCost is the largest EXPLAIN total cost a query may have on
	// a source that sets none: enough for a day's aggregates over GitLab's
	// big tables, far below a cartesian join of two of them.
	DefaultMaxCost = 1e9
	// DefaultWorkMem is the work_mem of a query: the memory of each sort
	// or hash before it spills to temporary files.
	DefaultWorkMem = "64MB"
	// DefaultTempFileLimit is the temp_file_limit of a query: the most
	// temporary file space one of its processes may use.
	DefaultTempFileLimit = "1GB"
)

// maxCost returns the max_cost that applies to q on src: the header's
// when it has one, else the source's. A header may lower the source's
// max_cost, not raise it: asking for more is an error, recorded as the
// query's failure.
func maxCost(src Source, q *catalog.Query) (float64, error) {
	switch {
	case q.MaxCost > src.MaxCost:
		return 0, fmt.Errorf("max_cost %s of the query's header is above the max_cost %s of source %s (sources.%s.max_cost): a header may lower it, not raise it; not run",
			formatCost(q.MaxCost), formatCost(src.MaxCost), src.Name, src.Name)
	case q.MaxCost > 0:
		return q.MaxCost, nil
	}
	return src.MaxCost, nil
}

func formatCost(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// setResources sets the query's work_mem and temp_file_limit for its
// transaction (SET LOCAL). Any role may set work_mem; temp_file_limit only
// a superuser (or a role granted SET ON PARAMETER temp_file_limit,
// PostgreSQL 15): it is tried under a savepoint, and when the role may
// not, the role's own setting stays (ALTER ROLE … SET temp_file_limit) and
// denied is true.
func setResources(ctx context.Context, tx pgx.Tx, src Source) (denied bool, err error) {
	if _, err := tx.Exec(ctx, "SELECT set_config('work_mem', $1, true)", src.WorkMem); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT metricgate_temp_file_limit"); err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, "SELECT set_config('temp_file_limit', $1, true)", src.TempFileLimit)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, "RELEASE SAVEPOINT metricgate_temp_file_limit")
		return false, err
	case errors.As(err, &pgErr) && pgErr.Code == "42501": // insufficient_privilege
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT metricgate_temp_file_limit")
		return true, err
	}
	return false, err
}

// warnTempFileLimit logs, once per source and Runner, that the source's
// role may not set temp_file_limit, and what the operator should do.
func (r *Runner) warnTempFileLimit(src Source) {
	if _, done := r.tempWarned.LoadOrStore(src.Name, true); done {
		return
	}
	role := "metricgate_reader"
	if cfg, err := pgx.ParseConfig(src.URL); err == nil && cfg.User != "" {
		role = cfg.User
	}
	r.log.Warn("the role of the source may not set temp_file_limit per query (SQLSTATE 42501 insufficient_privilege): queries run with the role's own setting; set it on the role",
		slog.String("source", src.Name), slog.String("temp_file_limit", src.TempFileLimit),
		slog.String("fix", fmt.Sprintf("ALTER ROLE %s SET temp_file_limit = '%s'", ident(role), src.TempFileLimit)))
}

// ident quotes name as an SQL identifier when it must be.
func ident(name string) string {
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return pgx.Identifier{name}.Sanitize()
		}
	}
	return name
}
