package guard_test

import (
	"fmt"
	"os"

	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/schema"
)

func ExampleGuard_Check() {
	cat, err := schema.Load(os.DirFS(".."), "schema.yml")
	if err != nil {
		panic(err)
	}
	g, err := guard.New(guard.Config{Schema: cat})
	if err != nil {
		panic(err)
	}
	an, violations := g.Check(`SELECT date_trunc('month', created_at)::date AS month,
       count(DISTINCT author_id) AS authors
FROM issues
GROUP BY 1`, "authors")
	fmt.Println(len(violations), "violations")
	for _, c := range an.Columns {
		fmt.Printf("%s: %s\n", c.Name, c.Kind)
	}
	// Output:
	// 0 violations
	// month: group key
	// authors: aggregate
}

func ExampleGuard_Check_rejected() {
	cat, err := schema.Load(os.DirFS(".."), "schema.yml")
	if err != nil {
		panic(err)
	}
	g, err := guard.New(guard.Config{Schema: cat})
	if err != nil {
		panic(err)
	}
	_, violations := g.Check(`SELECT e, count(*) AS n
FROM (SELECT email AS e FROM users) s
GROUP BY e`, "n")
	for _, v := range violations {
		fmt.Println(v.Rule)
		fmt.Println(v)
	}
	// Output:
	// guard/red-column
	// 1:8: red column users.email through s.e reaches output column "e"; red columns may only be counted (count(…), count(DISTINCT …)) or used in WHERE, JOIN … ON, HAVING and FILTER (WHERE …)
}
