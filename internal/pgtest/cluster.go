package pgtest

import (
	"context"

	"gitlab.com/metricgate/metricgate/internal/pgcluster"
)

// Cluster is a throwaway PostgreSQL cluster (see package pgcluster).
type Cluster = pgcluster.Cluster

// Options configure [Start] (see package pgcluster).
type Options = pgcluster.Options

// Start starts a cluster, as [pgcluster.Start].
func Start(ctx context.Context, opts Options) (*Cluster, error) { return pgcluster.Start(ctx, opts) }

// StopDir stops the cluster kept in dir, as [pgcluster.StopDir].
func StopDir(ctx context.Context, dir string) (bool, error) { return pgcluster.StopDir(ctx, dir) }
