package cli

import (
	"os"
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
