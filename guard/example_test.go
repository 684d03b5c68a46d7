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
	// an.SQL(k) is the text to run: it also counts these people behind
	// every row, in guard.HiddenColumns hidden columns.
	fmt.Println("people counted:", an.Entities)
	// Output:
	// 0 violations
	// month: group key
	// authors: aggregate
	// people counted: [issues.author_id]
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
	// users.email is red in schema.yml; renamed by a subquery, it is still.
	// The GROUP BY key is refused too; the first violation is shown.
	_, violations := g.Check(`SELECT e, count(*) AS n
FROM (SELECT email AS e FROM users) s
GROUP BY e`, "n")
	fmt.Println(violations[0].Rule)
	fmt.Println(violations[0])
	// Output:
	// guard/red-column
	// 1:8: users.email is red (personal data or a secret, class red in the schema catalog) used in output column "e": it may only be counted, compared with a literal (=, <>, IN, LIKE) or joined by equality in WHERE/ON/FILTER/HAVING
}
