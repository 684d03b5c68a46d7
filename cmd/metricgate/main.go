// Command metricgate lets analytics data leave a production GitLab database
// only as reviewed aggregates and public-project dumps. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"gitlab.com/metricgate/metricgate/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
