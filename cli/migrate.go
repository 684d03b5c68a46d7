package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/history"
)

const (
	migrateArgs    = "up|down|status [--config FILE]"
	migrateSummary = "apply (up), roll back one (down) or list (status) the history database migrations"
	// connectTimeout bounds connecting to the history database.
	connectTimeout = 30 * time.Second
)

// cmdMigrate is `metricgate migrate up|down|status`. The subcommand may
// come before or after the flags.
func cmdMigrate(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "migrate", migrateArgs, migrateSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	var sub string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if code, done := parseFlags(fl, args); done {
		return code
	}
	rest := fl.Args()
	if sub == "" && len(rest) > 0 {
		sub, rest = rest[0], rest[1:]
	}
	switch {
	case sub == "":
		fl.Usage()
		return e.fail(ExitUsage, "migrate", "missing subcommand: up, down or status")
	case sub != "up" && sub != "down" && sub != "status":
		return e.fail(ExitUsage, "migrate", "unknown subcommand %q: want up, down or status", sub)
	case len(rest) > 0:
		return e.fail(ExitUsage, "migrate", "unexpected argument %q", rest[0])
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "migrate", "%v", err)
	}
	url := cfg.History.URL.Reveal()
	if url == "" {
		return e.fail(ExitUsage, "migrate", "history.url is not set: set it in the config file or METRICGATE_HISTORY_URL")
	}
	if err := migrate(ctx, e, sub, url); err != nil {
		if errors.Is(err, context.Canceled) {
			return e.fail(ExitProblems, "migrate", "interrupted")
		}
		return e.fail(ExitProblems, "migrate", "%v", err)
	}
	return ExitOK
}

// migrate runs subcommand sub on the history database at url.
func migrate(ctx context.Context, e *env, sub, url string) (err error) {
	store, err := openHistory(ctx, url)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); err == nil {
			err = cerr
		}
	}()
	before, err := store.MigrateStatus(ctx)
	if err != nil {
		return err
	}
	switch sub {
	case "status":
		return writeMigrationStatus(e, before)
	case "up":
		err = store.Migrate(ctx)
	case "down":
		err = store.MigrateDown(ctx)
	}
	if err != nil {
		return err
	}
	after, err := store.MigrateStatus(ctx)
	if err != nil {
		return err
	}
	writeMigrationChanges(e, before, after)
	return nil
}

// writeMigrationStatus prints one line per migration: version, file name,
// and when it was applied or "pending".
func writeMigrationStatus(e *env, st []history.MigrationStatus) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED AT")
	for _, m := range st {
		at := "pending"
		if m.Applied {
			at = m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, m.Name, at)
	}
	return tw.Flush()
}

// writeMigrationChanges prints what up or down changed, then the version
// the database is at.
func writeMigrationChanges(e *env, before, after []history.MigrationStatus) {
	was := make(map[int64]bool, len(before))
	for _, m := range before {
		was[m.Version] = m.Applied
	}
	changed := false
	var version int64
	for _, m := range after {
		switch {
		case m.Applied && !was[m.Version]:
			fmt.Fprintf(e.stdout, "applied %s\n", m.Name)
			changed = true
		case !m.Applied && was[m.Version]:
			fmt.Fprintf(e.stdout, "rolled back %s\n", m.Name)
			changed = true
		}
		if m.Applied {
			version = max(version, m.Version)
		}
	}
	if !changed {
		fmt.Fprintln(e.stdout, "no change")
	}
	fmt.Fprintf(e.stdout, "history database at version %d\n", version)
}
