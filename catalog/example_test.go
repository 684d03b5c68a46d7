package catalog_test

import (
	"errors"
	"fmt"
	"testing/fstest"

	"gitlab.com/metricgate/metricgate/catalog"
)

func ExampleParse() {
	src := []byte(`-- description: Median hours from MR creation to merge, per month.
-- owner: @some-pm
-- group_size: mr_count
-- schedule: weekly
-- load: replce
-- timeout: 10m

SELECT date_trunc('month', created_at)::date AS month, count(*) AS mr_count
FROM merge_requests
GROUP BY 1
`)
	q, problems := catalog.Parse("code_review/mr_merge_time.sql", src, catalog.Config{})
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Println(q.Name, q.Area, q.Schedule, q.Schedule.Period(), q.Timeout, q.MinGroupSize, q.BodyLine)
	// Output:
	// code_review/mr_merge_time.sql:5:10: unknown load mode "replce" (did you mean "replace"?)
	// mr_merge_time code_review weekly 168h0m0s 10m0s 10 8
}

func ExampleLoad() {
	const header = "-- description: Open issues per month.\n-- owner: @some-pm\n-- group_size: issue_count\n"
	const sql = "\nSELECT count(*) AS issue_count FROM issues\n"
	fsys := fstest.MapFS{
		"issues/open_issues.sql":  {Data: []byte(header + sql)},
		"issues/closed.sql":       {Data: []byte(header + "-- schedul: daily\n" + sql)},
		"plan/open_issues.sql":    {Data: []byte(header + sql)},
		"plan/epics.sql":          {Data: []byte(header + "-- tags: stage::plan\n" + sql)},
		"plan/README.md":          {Data: []byte("# Plan queries\n")},
		"code_review/mr_time.sql": {Data: []byte("SELECT 1\n")},
	}
	c, err := catalog.Load(fsys, catalog.Config{})
	var problems catalog.Problems
	if errors.As(err, &problems) {
		fmt.Println(problems.WithDir("queries"))
	} else if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, q := range c.Queries {
		fmt.Println("ok:", q.Name, q.Path, q.Tags)
	}
	// Output:
	// queries/code_review/mr_time.sql:1:1: missing required header key "description", e.g. "-- description: Median hours from MR creation to merge, per month."
	// queries/code_review/mr_time.sql:1:1: missing required header key "group_size", e.g. "-- group_size: mr_count"
	// queries/code_review/mr_time.sql:1:1: missing required header key "owner", e.g. "-- owner: @your-gitlab-handle"
	// queries/issues/closed.sql:4:4: unknown header key "schedul" (did you mean "schedule"?)
	// queries/plan/open_issues.sql:1:1: query name "open_issues" is already used by queries/issues/open_issues.sql; file names must be unique across all directories
	// ok: epics plan/epics.sql [stage::plan]
	// ok: open_issues issues/open_issues.sql []
}
