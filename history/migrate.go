package history

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"gitlab.com/metricgate/metricgate/migrations"
)

// ErrNoMigration is returned by [Store.MigrateDown] when no migration is
// applied.
var ErrNoMigration = errors.New("no migration to roll back")

// MigrationStatus is the state of one migration of package migrations.
type MigrationStatus struct {
	// Version is the number the file name starts with.
	Version int64
	// Name is the file name, e.g. "00001_history.sql".
	Name string
	// Applied is true once the migration has run up.
	Applied bool
	// AppliedAt is when it ran up, in UTC; zero when pending.
	AppliedAt time.Time
}

// provider returns a goose provider of the embedded migrations that takes
// goose's PostgreSQL advisory session lock around every change, so that
// processes migrating the same database at once apply each migration once.
func (s *Store) provider() (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, s.db, migrations.FS, goose.WithSessionLocker(locker))
}

// Migrate applies every pending up migration.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("migrate history database %s: %w", s.where, err)
	}
	return nil
}

// MigrateDown rolls back the newest applied migration, or returns
// [ErrNoMigration] when none is applied.
func (s *Store) MigrateDown(ctx context.Context) error {
	p, err := s.provider()
	if err == nil {
		_, err = p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			err = ErrNoMigration
		}
	}
	if err != nil {
		return fmt.Errorf("roll back history database %s: %w", s.where, err)
	}
	return nil
}

// MigrateStatus returns every migration, oldest first, and whether it is
// applied.
func (s *Store) MigrateStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	var st []*goose.MigrationStatus
	if err == nil {
		st, err = p.Status(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("read migration status of history database %s: %w", s.where, err)
	}
	out := make([]MigrationStatus, len(st))
	for i, m := range st {
		out[i] = MigrationStatus{
			Version: m.Source.Version,
			Name:    path.Base(m.Source.Path),
			Applied: m.State == goose.StateApplied,
		}
		if out[i].Applied {
			out[i].AppliedAt = m.AppliedAt.UTC()
		}
	}
	return out, nil
}
