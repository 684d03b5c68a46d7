package dump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"gocloud.dev/blob"
)

// Retain keeps the newest keep complete dumps under prefix and deletes
// every older dump, complete or not, so that data deleted in production
// disappears from storage after keep days. Incomplete dumps newer than
// the newest complete one may still be running and are left alone. A
// dump's manifest is deleted first, so a half-deleted dump is never taken
// for a complete one.
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
		if dumps[i].complete {
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
