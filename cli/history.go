package cli

import (
	"context"
	"fmt"

	"gitlab.com/metricgate/metricgate/history"
)

// openHistory connects to the history database at url, giving up after
// connectTimeout. The error never quotes the URL's password.
func openHistory(ctx context.Context, url string) (*history.Store, error) {
	openCtx, cancel := context.WithTimeoutCause(ctx, connectTimeout,
		fmt.Errorf("connect to the history database: no answer within %v", connectTimeout))
	defer cancel()
	store, err := history.Open(openCtx, url)
	return store, endpoint("history database", "history.url", url, err)
}

// openMigratedHistory is openHistory, then applies the migrations (under
// goose's lock, so concurrent starts are safe).
func openMigratedHistory(ctx context.Context, url string) (*history.Store, error) {
	store, err := openHistory(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		_ = store.Close() // the migration error is the one to report
		return nil, err
	}
	return store, nil
}
