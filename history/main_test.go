package history

import (
	"testing"

	"gitlab.com/metricgate/metricgate/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newStore opens a store on a fresh database, closed at cleanup; migrated
// says whether to apply the migrations.
func newStore(t *testing.T, migrated bool) (*Store, string) {
	t.Helper()
	dsn := pgtest.New(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if migrated {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return s, dsn
}
