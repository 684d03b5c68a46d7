package history

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"time"

	"gitlab.com/metricgate/metricgate/history/internal/db"
	"gitlab.com/metricgate/metricgate/internal/redact"
)

// StartDump records a new dump and returns its id. The status is d.Status
// (normally [DumpRunning]; empty means running); a zero d.StartedAt means
// now. d.ID is ignored.
func (s *Store) StartDump(ctx context.Context, d Dump) (int64, error) {
	p, err := dumpParams(d)
	if err != nil {
		return 0, fmt.Errorf("start dump of %q: %w", d.Group, err)
	}
	started := d.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	id, err := s.q.InsertDump(ctx, s.db, db.InsertDumpParams{
		GroupPath: p.GroupPath, Status: p.Status, Error: redact.String(p.Error), Location: p.Location,
		SnapshotTime: p.SnapshotTime, Tables: p.Tables, Files: p.Files, Rows: p.Rows, Bytes: p.Bytes,
		ConfigSha256: p.ConfigSha256, StartedAt: started.Truncate(time.Microsecond), FinishedAt: p.FinishedAt,
		Kind: p.Kind, Base: p.Base,
	})
	if err != nil {
		return 0, fmt.Errorf("start dump of %q: %w", d.Group, err)
	}
	return id, nil
}

// FinishDump stores every field of dump d.ID but its start time: the final
// status, error, location, snapshot time, counts and finish time. It
// returns [ErrNotFound] when there is no such dump.
func (s *Store) FinishDump(ctx context.Context, d Dump) error {
	p, err := dumpParams(d)
	if err == nil {
		p.ID = d.ID
		var n int64
		n, err = s.q.UpdateDump(ctx, s.db, p)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("finish dump %d: %w", d.ID, err)
	}
	return nil
}

// Dumps returns the newest dumps first, at most limit of them (all when
// limit is zero or negative).
func (s *Store) Dumps(ctx context.Context, limit int) ([]Dump, error) {
	rows, err := s.q.ListDumps(ctx, s.db, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("list dumps: %w", err)
	}
	out := make([]Dump, len(rows))
	for i, r := range rows {
		out[i] = dumpOf(r)
	}
	return out, nil
}

func dumpOf(r db.Dump) Dump {
	return Dump{
		ID:           r.ID,
		Group:        r.Group,
		Status:       DumpStatus(r.Status),
		Error:        redact.String(r.Error),
		Location:     r.Location,
		SnapshotTime: timeOf(r.SnapshotTime),
		Tables:       int(r.Tables),
		Files:        int(r.Files),
		Rows:         r.Rows,
		Bytes:        r.Bytes,
		ConfigSHA256: r.ConfigSha256,
		Kind:         DumpKind(r.Kind),
		Base:         r.Base,
		StartedAt:    r.StartedAt.UTC(),
		FinishedAt:   timeOf(r.FinishedAt),
	}
}

// SucceededDumpsSince returns the succeeded dumps that finished at or
// after since, and the newest one of each group before, oldest first:
// what the dumps' data was over a window (schedule.Attainment).
func (s *Store) SucceededDumpsSince(ctx context.Context, since time.Time) ([]Dump, error) {
	rows, err := s.q.SucceededDumpsSince(ctx, s.db, since)
	if err != nil {
		return nil, fmt.Errorf("list succeeded dumps since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make([]Dump, len(rows))
	for i, r := range rows {
		out[i] = dumpOf(r)
	}
	return out, nil
}

// SucceededDumpLoadsSince returns the succeeded loads that finished at or
// after since, and the newest one before, oldest first.
func (s *Store) SucceededDumpLoadsSince(ctx context.Context, since time.Time) ([]DumpLoad, error) {
	rows, err := s.q.SucceededDumpLoadsSince(ctx, s.db, since)
	if err != nil {
		return nil, fmt.Errorf("list succeeded dump loads since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make([]DumpLoad, len(rows))
	for i, r := range rows {
		out[i] = dumpLoadOf(r)
	}
	return out, nil
}

// StartDumpLoad records a new load of a dump and returns its id, as given:
// running, or already final (a skipped load). An empty l.Status means
// running; a zero l.StartedAt means now. l.ID is ignored.
func (s *Store) StartDumpLoad(ctx context.Context, l DumpLoad) (int64, error) {
	p, err := dumpLoadParams(l)
	if err != nil {
		return 0, fmt.Errorf("start load of dump %q: %w", l.Location, err)
	}
	started := l.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	id, err := s.q.InsertDumpLoad(ctx, s.db, db.InsertDumpLoadParams{
		Location: p.Location, Status: p.Status, Error: redact.String(p.Error), SnapshotTime: p.SnapshotTime,
		Tables: p.Tables, Rows: p.Rows, StartedAt: started.Truncate(time.Microsecond), FinishedAt: p.FinishedAt,
		Kind: p.Kind,
	})
	if err != nil {
		return 0, fmt.Errorf("start load of dump %q: %w", l.Location, err)
	}
	return id, nil
}

// FinishDumpLoad stores every field of load l.ID but its start time. It
// returns [ErrNotFound] when there is no such load.
func (s *Store) FinishDumpLoad(ctx context.Context, l DumpLoad) error {
	p, err := dumpLoadParams(l)
	if err == nil {
		p.ID = l.ID
		var n int64
		n, err = s.q.UpdateDumpLoad(ctx, s.db, p)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("finish dump load %d: %w", l.ID, err)
	}
	return nil
}

// DumpLoads returns the newest dump loads first, whatever their status, at
// most limit of them (all when limit is zero or negative).
func (s *Store) DumpLoads(ctx context.Context, limit int) ([]DumpLoad, error) {
	rows, err := s.q.ListDumpLoads(ctx, s.db, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("list dump loads: %w", err)
	}
	out := make([]DumpLoad, len(rows))
	for i, r := range rows {
		out[i] = dumpLoadOf(r)
	}
	return out, nil
}

// LastDumpLoad returns the newest succeeded dump load — what the warehouse
// holds — or [ErrNotFound] when no load ever succeeded.
func (s *Store) LastDumpLoad(ctx context.Context) (DumpLoad, error) {
	r, err := s.q.LastDumpLoad(ctx, s.db)
	if err != nil {
		return DumpLoad{}, fmt.Errorf("read last dump load: %w", notFound(err))
	}
	return dumpLoadOf(r), nil
}

func dumpParams(d Dump) (db.UpdateDumpParams, error) {
	status := d.Status
	if status == "" {
		status = DumpRunning
	}
	tables, err := count32("tables", d.Tables)
	if err != nil {
		return db.UpdateDumpParams{}, err
	}
	files, err := count32("files", d.Files)
	if err != nil {
		return db.UpdateDumpParams{}, err
	}
	return db.UpdateDumpParams{
		GroupPath:    d.Group,
		Status:       string(status),
		Error:        redact.String(d.Error),
		Location:     d.Location,
		SnapshotTime: nullTime(d.SnapshotTime),
		Tables:       tables,
		Files:        files,
		Rows:         d.Rows,
		Bytes:        d.Bytes,
		ConfigSha256: d.ConfigSHA256,
		FinishedAt:   nullTime(d.FinishedAt),
		Kind:         string(cmp.Or(d.Kind, DumpFull)),
		Base:         d.Base,
	}, nil
}

func dumpLoadParams(l DumpLoad) (db.UpdateDumpLoadParams, error) {
	status := l.Status
	if status == "" {
		status = DumpRunning
	}
	tables, err := count32("tables", l.Tables)
	if err != nil {
		return db.UpdateDumpLoadParams{}, err
	}
	return db.UpdateDumpLoadParams{
		Location:     l.Location,
		Status:       string(status),
		Error:        redact.String(l.Error),
		SnapshotTime: nullTime(l.SnapshotTime),
		Tables:       tables,
		Rows:         l.Rows,
		FinishedAt:   nullTime(l.FinishedAt),
		Kind:         string(cmp.Or(l.Kind, DumpFull)),
	}, nil
}

func dumpLoadOf(r db.DumpLoad) DumpLoad {
	return DumpLoad{
		ID:           r.ID,
		Location:     r.Location,
		Status:       DumpStatus(r.Status),
		Error:        redact.String(r.Error),
		SnapshotTime: timeOf(r.SnapshotTime),
		Tables:       int(r.Tables),
		Rows:         r.Rows,
		Kind:         DumpKind(r.Kind),
		StartedAt:    r.StartedAt.UTC(),
		FinishedAt:   timeOf(r.FinishedAt),
	}
}

// DumpWatermarks returns the watermarks of group's incremental tables,
// by table name.
func (s *Store) DumpWatermarks(ctx context.Context, group string) ([]Watermark, error) {
	rows, err := s.q.ListDumpWatermarks(ctx, s.db, group)
	if err != nil {
		return nil, fmt.Errorf("read dump watermarks of %q: %w", group, err)
	}
	out := make([]Watermark, len(rows))
	for i, r := range rows {
		out[i] = Watermark{Table: r.TableName, Time: r.Watermark.UTC(), Location: r.Location}
	}
	return out, nil
}

// CommitDumpWatermarks sets the watermarks of group to those of the
// committed dump at location, in one transaction, and forgets the
// watermarks of tables it does not list.
func (s *Store) CommitDumpWatermarks(ctx context.Context, group, location string, marks map[string]time.Time) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit dump watermarks of %q: %w", group, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the first error is the one to report
		}
	}()
	for table, at := range marks {
		if err := s.q.UpsertDumpWatermark(ctx, tx, db.UpsertDumpWatermarkParams{
			GroupPath: group, TableName: table, Watermark: at.Truncate(time.Microsecond), Location: location}); err != nil {
			return fmt.Errorf("commit dump watermark of %s.%s: %w", group, table, err)
		}
	}
	if err := s.q.DeleteDumpWatermarks(ctx, tx, db.DeleteDumpWatermarksParams{GroupPath: group, Location: location}); err != nil {
		return fmt.Errorf("commit dump watermarks of %q: %w", group, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit dump watermarks of %q: %w", group, err)
	}
	return nil
}

// count32 checks that a count fits its integer column.
func count32(what string, n int) (int32, error) {
	if n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%s %d out of range", what, n)
	}
	return int32(n), nil
}
