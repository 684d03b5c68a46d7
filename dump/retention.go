package dump

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"gocloud.dev/blob"

	"gitlab.com/metricgate/metricgate/warehouse"
)

// Retain keeps the newest keep complete full dumps under prefix, with the
// increments after them (a chain of increments is loadable only with the
// full dump it starts at), and deletes every older dump, complete or not,
// so that data deleted in production disappears from storage after keep
// full dumps. Incomplete dumps newer than the newest complete one may
// still be running and are left alone. A dump's manifest is deleted
// first, so a half-deleted dump is never taken for a complete one.
func Retain(ctx context.Context, b *blob.Bucket, prefix string, keep int, log *slog.Logger) error {
	if keep < 1 {
		return fmt.Errorf("retain dumps: keep %d: must be at least 1", keep)
	}
	dumps, err := listDumps(ctx, b, prefix)
	if err != nil {
		return fmt.Errorf("retain dumps: %w", err)
	}
	kept, cut := 0, -1
	for i := len(dumps) - 1; i >= 0; i-- {
		if dumps[i].complete && !isIncrement(ctx, b, dumps[i].location) {
			kept++
			if kept == keep {
				cut = i
				break
			}
		}
	}
	if cut < 0 {
		// Fewer complete dumps than keep: remove only incomplete dumps
		// older than the newest complete one.
		newest := -1
		for i, d := range dumps {
			if d.complete {
				newest = i
			}
		}
		for i := 0; i < newest; i++ {
			if !dumps[i].complete {
				if err := deleteDump(ctx, b, dumps[i], log); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, d := range dumps[:cut] {
		if err := deleteDump(ctx, b, d, log); err != nil {
			return err
		}
	}
	return nil
}

func deleteDump(ctx context.Context, b *blob.Bucket, d dumpDir, log *slog.Logger) error {
	if d.complete {
		if err := b.Delete(ctx, d.location+ManifestName); err != nil {
			return fmt.Errorf("retain dumps: delete %s%s: %w", d.location, ManifestName, err)
		}
	}
	it := b.List(&blob.ListOptions{Prefix: d.location})
	n := 0
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("retain dumps: list %s: %w", d.location, err)
		}
		if err := b.Delete(ctx, obj.Key); err != nil {
			return fmt.Errorf("retain dumps: delete %s: %w", obj.Key, err)
		}
		n++
	}
	if log != nil {
		log.Info("old dump deleted", slog.String("location", d.location), slog.Bool("complete", d.complete), slog.Int("files", n))
	}
	return nil
}

// isIncrement reports whether the complete dump at location is an
// increment. A manifest that cannot be read counts as a full dump: it
// then keeps nothing older alive.
func isIncrement(ctx context.Context, b *blob.Bucket, location string) bool {
	data, err := b.ReadAll(ctx, location+ManifestName)
	if err != nil {
		return false
	}
	var m struct {
		Kind warehouse.DumpMode `json:"kind"`
	}
	return json.Unmarshal(data, &m) == nil && m.Kind == KindIncremental
}
