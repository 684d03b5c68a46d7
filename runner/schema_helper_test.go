package runner_test

import (
	"os"
	"regexp"
	"sync"

	"gitlab.com/metricgate/metricgate/schema"
)

// shippedSchema is the repository's schema.yml, read once.
var shippedSchema = sync.OnceValue(func() *schema.Catalog {
	cat, err := schema.Load(os.DirFS(".."), schema.DefaultFile)
	if err != nil {
		panic(err)
	}
	return cat
})

// testSchema is the repository's schema.yml with GitLab's events replaced by
// the small synthetic events table most runner tests create (k, actor, v,
// created_at; actor the person behind a row).
var testSchema = sync.OnceValue(func() *schema.Catalog {
	b, err := os.ReadFile("../" + schema.DefaultFile)
	if err != nil {
		panic(err)
	}
	text := regexp.MustCompile(`(?ms)^  events:\n.*?\n\n`).ReplaceAllString(string(b)+"\n", "") +
		"  events:\n    entity: [actor]\n    columns: {id: key, k: category, actor: key, v: measure, created_at: time}\n"
	cat, err := schema.Parse("schema.yml (runner tests)", []byte(text))
	if err != nil {
		panic(err)
	}
	return cat
})
