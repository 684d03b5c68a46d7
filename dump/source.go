package dump

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gitlab.com/metricgate/metricgate/internal/snapshot"
)

// source is one database the dump reads, on a snapshot of its own.
type source struct {
	role     string
	url      string
	snapshot string
	asOf     time.Time
}

// roleOf is the role whose database holds t: its source role when that
// role has a database of its own, else main.
func (e *Exporter) roleOf(t *Table) string {
	if s, ok := e.cfg.Sources[t.Source]; ok && t.Source != MainRole && s.URL != "" && s.URL != e.cfg.SourceURL {
		return t.Source
	}
	return MainRole
}

// openedSource is a source's coordinator: the transaction whose snapshot
// the workers attach to.
type openedSource struct {
	*source
	coord *snapshot.Coordinator
}

func (o *openedSource) close(ctx context.Context) { o.coord.Close(ctx) }

// openSource opens the coordinator of one database: a REPEATABLE READ,
// READ ONLY transaction whose snapshot it exports, and reads its as-of
// time.
func (e *Exporter) openSource(ctx context.Context, role, url, asOfSQL, srcName string, maxAge time.Duration) (*openedSource, pgx.Tx, error) {
	name := e.cfg.ApplicationName + " coordinator"
	if role != MainRole {
		name += " " + role
	}
	// The coordinator sits idle while the workers copy, and must outlive
	// them: they attach to its snapshot table by table.
	coord, err := snapshot.Open(ctx, snapshot.Config{URL: url, ApplicationName: name, AsOf: asOfSQL,
		Idle: e.cfg.StatementTimeout + 10*time.Minute, MaxAge: maxAge, Name: cmp.Or(srcName, role)})
	if err != nil {
		return nil, nil, err
	}
	o := &openedSource{source: &source{role: role, url: url, snapshot: coord.ID, asOf: coord.AsOf}, coord: coord}
	return o, coord.Tx, nil
}

// estimateRows returns the planner's row estimate of each table, so that
// the biggest tables start first and the workers finish together.
func estimateRows(ctx context.Context, tx pgx.Tx, def *Definition) (map[string]int64, error) {
	names := make([]string, len(def.Tables))
	for i, t := range def.Tables {
		names[i] = t.Name
	}
	rows, err := tx.Query(ctx, `SELECT c.relname::text, greatest(c.reltuples, 0)::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY ($2)`, def.Schema, names)
	if err != nil {
		return nil, fmt.Errorf("estimate table sizes: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("estimate table sizes: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

// snapshots are the source databases of a dump, each read on a snapshot
// of its own, and what the dump learnt from them before exporting.
type snapshots struct {
	// roles are the roles with a database of their own, main first.
	roles   []string
	sources map[string]*source
	opened  []*openedSource
	// mainTx is the main database's coordinator transaction.
	mainTx pgx.Tx
	// types are the source columns of each table.
	types map[string]map[string]SourceColumn
	// remote is the scope handed to the other databases' tables; nil
	// when the main database holds every table.
	remote *remoteScope
	// scopeSum digests the scope's groups and projects; "" without
	// incremental tables.
	scopeSum string
	// estimates are the planner's row estimates, by table.
	estimates map[string]int64
}

// close rolls back every coordinator, the main database's last.
func (s *snapshots) close(ctx context.Context) {
	for _, o := range slices.Backward(s.opened) {
		o.close(ctx)
	}
}

// openSnapshots opens a coordinator on each database the tables of def
// are in, checks the tables and columns of each against it, and reads
// the scope and the row estimates. The snapshots it returns, also with
// an error, are to be closed.
func (e *Exporter) openSnapshots(ctx context.Context, def *Definition) (*snapshots, error) {
	roles := []string{MainRole}
	for _, t := range def.Tables {
		if r := e.roleOf(t); !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	checkRole := func(r string) string {
		if len(roles) == 1 {
			return "" // one database holds every table
		}
		return r
	}
	s := &snapshots{roles: roles, sources: map[string]*source{}, types: map[string]map[string]SourceColumn{}}
	// The main database first: the scope of the other databases' tables
	// is computed in its snapshot.
	mainSrc, mainTx, err := e.openSource(ctx, MainRole, e.cfg.SourceURL, e.cfg.AsOf, e.cfg.SourceName, e.cfg.MaxAge)
	if err != nil {
		return nil, err
	}
	s.opened = append(s.opened, mainSrc)
	s.sources[MainRole], s.mainTx = mainSrc.source, mainTx
	have, err := CheckSourceRole(ctx, mainTx, def, checkRole(MainRole))
	if err != nil {
		return s, err
	}
	maps.Copy(s.types, have)
	var scopeRoot int
	if err := mainTx.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(def.Schema)+`.routes WHERE source_type = 'Namespace' AND lower(path) = lower($1)`, def.Group).Scan(&scopeRoot); err != nil {
		return s, fmt.Errorf("look up group %s: %w", def.Group, err)
	}
	if scopeRoot == 0 {
		return s, fmt.Errorf("group %s: no such group in the source", def.Group)
	}
	if len(roles) > 1 {
		withMRs := slices.ContainsFunc(def.Tables, func(t *Table) bool { return e.roleOf(t) != MainRole && t.Scope.Kind == "pipeline" })
		s.remote = &remoteScope{}
		if err := mainTx.QueryRow(ctx, def.scope(nil).remoteQuery(withMRs)).Scan(&s.remote.groups, &s.remote.projects, &s.remote.mergeRequests); err != nil {
			return s, fmt.Errorf("read the scope for the other databases (%s): %w", strings.Join(roles[1:], ", "), err)
		}
	}
	if len(def.incrementalTables()) > 0 {
		if err := mainTx.QueryRow(ctx, def.scopeSHA256SQL()).Scan(&s.scopeSum); err != nil {
			return s, fmt.Errorf("digest the scope's groups and projects: %w", err)
		}
	}
	if s.estimates, err = estimateRows(ctx, mainTx, def); err != nil {
		return s, err
	}
	for _, r := range roles[1:] {
		src, tx, err := e.openSource(ctx, r, e.cfg.Sources[r].URL, cmp.Or(e.cfg.Sources[r].AsOf, "now()"), e.cfg.Sources[r].Name, e.cfg.Sources[r].MaxAge)
		if err != nil {
			return s, fmt.Errorf("source %s: %w", r, err)
		}
		s.opened = append(s.opened, src)
		s.sources[r] = src.source
		have, err := CheckSourceRole(ctx, tx, def, r)
		if err != nil {
			return s, fmt.Errorf("source %s: %w", r, err)
		}
		maps.Copy(s.types, have)
		est, err := estimateRows(ctx, tx, def)
		if err != nil {
			return s, err
		}
		for _, t := range def.Tables {
			if e.roleOf(t) == r {
				s.estimates[t.Name] = est[t.Name]
			}
		}
	}
	return s, nil
}
