package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestTransient(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code}) }
	for _, c := range []struct {
		err  error
		want bool
	}{
		{pg("57P01"), true},  // pg_terminate_backend
		{pg("08006"), true},  // connection failure
		{pg("40001"), true},  // serialization failure
		{pg("40P01"), true},  // deadlock
		{pg("57014"), false}, // statement timeout: the query is too slow, trying again won't help
		{pg("42703"), false}, // undefined column
		{pg("25006"), false}, // read-only transaction
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{errors.New("conn closed"), true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{errors.New("more than max_rows (5) rows: nothing loaded"), false},
		{nil, false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
