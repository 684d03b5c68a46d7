package runner

import (
	"context"
	"fmt"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/internal/coarse"
)

// Plan is what a query would load, without a row of its data: for authors
// and reviewers, before the query is approved.
type Plan struct {
	// Columns are the output columns with their source types and kinds.
	Columns []PlanColumn
	// Cost is the EXPLAIN total cost, to two significant digits
	// (coarse.Cost); MaxCost the limit that applies: the header's
	// max_cost, else the source's.
	Cost, MaxCost float64
	// Kept is the number of rows (one per group) that would be loaded.
	Kept int64
	// Suppressed is the number of rows that would be dropped for being
	// backed by fewer than MinGroupSize people, and SuppressedCells the
	// number of aggregate cells of kept rows that would be set to NULL for
	// the same reason: only as decades (package coarse), like every count
	// of hidden rows. The total number of groups is not given, since it
	// would tell Suppressed exactly.
	Suppressed, SuppressedCells coarse.Count
	MinGroupSize                int64
	// MaxRows is the query's max_rows.
	MaxRows int64
	// Entities are what each row is counted in: the entity keys whose
	// distinct people every row (and cell) must have at least MinGroupSize
	// of ("merge_requests.author_id").
	Entities []string
	// Histogram counts the kept rows by the number of people behind them
	// (the smallest count among Entities); its first bucket is the
	// suppressed rows.
	Histogram []Bucket
	// FineKeys names the group-key columns when most kept rows have fewer
	// than twice MinGroupSize people: the groups are close to the limit,
	// and a reviewer should check the keys are not near-unique.
	FineKeys []string
	// Problems are the reasons the run would refuse the query (the type
	// rule, max_cost, max_rows); empty when it would load.
	Problems []string
	// Duration is how long the query took.
	Duration time.Duration
}

// PlanColumn is one output column of a plan.
type PlanColumn struct {
	Name string
	// Type is the PostgreSQL type name of the result column.
	Type string
	// Kind is what the guard made of it: group key, aggregate or constant.
	Kind guard.Kind
}

// Bucket counts the groups whose size is in [Low, High]; High is 0 for no
// upper bound. The first bucket, [0, min_group_size-1], is what the run
// suppresses: its Groups is 0, and Plan.Suppressed says how many, as a
// decade.
type Bucket struct {
	Low, High int64
	Groups    int64
}

// bucketBounds are the histogram's lower bounds as multiples of
// min_group_size, after the first bucket [1, min).
var bucketBounds = []int64{1, 2, 5, 10, 100}

// PlanQuery runs q on src in a read-only transaction and summarizes what a
// run would load. It checks the query with g first; a guard violation is an
// error. It returns no data rows.
func PlanQuery(ctx context.Context, src Source, g *guard.Guard, q *catalog.Query) (*Plan, error) {
	an, vs := g.CheckQuery(q)
	if len(vs) > 0 {
		return nil, fmt.Errorf("%s:%s (and %d more problems; run metricgate validate)", q.Path, vs[0], len(vs)-1)
	}
	cfg := Config{Sources: map[string]Source{"plan": src}}.withDefaults()
	src = cfg.Sources["plan"]
	conn, err := connect(ctx, src, cfg.ApplicationName+" plan "+q.Name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	ex, err := begin(ctx, conn, "", cfg, src, q, cfg.ApplicationName+" plan "+q.Name)
	if err != nil {
		return nil, err
	}
	defer ex.rollback(ctx)
	ex.sql, ex.toFile = an.SQL(q.MinGroupSize), an.SourceOffset
	p := &Plan{MinGroupSize: int64(q.MinGroupSize), MaxRows: int64(q.MaxRows)}
	if p.MaxCost, err = maxCost(src, q); err != nil {
		p.MaxCost = src.MaxCost
		p.Problems = append(p.Problems, err.Error())
	}
	cost, err := ex.explain(ctx)
	if err != nil {
		return nil, err
	}
	// Shown and checked to two significant digits (coarse.Cost), as the
	// run checks it.
	p.Cost = coarse.Cost(cost)
	if p.Cost > p.MaxCost {
		p.Problems = append(p.Problems, fmt.Sprintf("EXPLAIN cost %.0f is above max_cost %s: the run would not execute it", p.Cost, formatCost(p.MaxCost)))
	}
	start := time.Now()
	res, err := ex.query(ctx, an)
	if res != nil {
		defer res.close()
		for i, c := range res.columns {
			p.Columns = append(p.Columns, PlanColumn{Name: c.Name, Type: c.Source, Kind: an.Columns[i].Kind})
		}
	}
	if err != nil {
		if res == nil {
			return nil, err
		}
		p.Problems = append(p.Problems, err.Error())
		return p, nil
	}
	min := p.MinGroupSize
	p.Histogram = append(p.Histogram, Bucket{Low: 0, High: min - 1})
	for i, b := range bucketBounds {
		hi := int64(0)
		if i+1 < len(bucketBounds) {
			hi = bucketBounds[i+1]*min - 1
		}
		p.Histogram = append(p.Histogram, Bucket{Low: b * min, High: hi})
	}
	// Read every group's size through the filter, keeping nothing else:
	// the rows it keeps reach Next, the ones it drops it counts.
	res.maxRows = 1<<63 - 1
	var small int64
	for res.Next() {
		n := res.filter.Entities
		if n < 2*min {
			small++
		}
		for i := len(p.Histogram) - 1; i > 0; i-- {
			if n >= p.Histogram[i].Low {
				p.Histogram[i].Groups++
				break
			}
		}
	}
	if res.err != nil {
		return nil, res.err
	}
	p.Duration = time.Since(start)
	p.Kept = res.filter.Kept
	p.Suppressed, p.SuppressedCells = coarse.Of(res.filter.Dropped), coarse.Of(res.filter.Cells)
	p.Entities = an.Entities
	if p.Kept > 0 && 2*small > p.Kept {
		for _, c := range an.Columns {
			if c.Kind == guard.GroupKey {
				p.FineKeys = append(p.FineKeys, c.Name)
			}
		}
	}
	if p.Kept > p.MaxRows {
		p.Problems = append(p.Problems, fmt.Sprintf("%d rows are more than max_rows (%d): the run would fail", p.Kept, p.MaxRows))
	}
	return p, nil
}
