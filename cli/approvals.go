package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
)

const (
	approvalsArgs    = "[--config FILE] [--format text|json]"
	approvalsSummary = "show every query file's approval state, with its merge request and approvers"
)

// requireGitLab names the first gitlab.* setting that what needs and is
// not set.
func (c *Config) requireGitLab(what string) error {
	switch {
	case c.GitLab.Token == "":
		return &configError{what + " needs gitlab.token: set it in the config file or METRICGATE_GITLAB_TOKEN"}
	case c.GitLab.Project == "":
		return &configError{what + " needs gitlab.project (path or ID): set it in the config file or METRICGATE_GITLAB_PROJECT"}
	}
	return nil
}

// gitLabConfig is review's part of the configuration.
func (c *Config) gitLabConfig() review.GitLabConfig {
	prefix := c.GitLab.QueriesPath
	if prefix == "" {
		if p, ok := review.RepoPrefix(c.Queries.Dir); ok {
			prefix = p
		}
	}
	return review.GitLabConfig{URL: c.GitLab.URL, Token: c.GitLab.Token.Reveal(), Project: c.GitLab.Project,
		Branch: c.Queries.Branch, Prefix: prefix}
}

// gitLabApprover is the gitlab approval mode, caching in store when it is
// not nil.
func (c *Config) gitLabApprover(store *history.Store, log *slog.Logger) (*review.GitLab, error) {
	var cache review.Cache
	if store != nil {
		cache = store
	}
	g, err := review.NewGitLab(c.gitLabConfig(), cache, log)
	if err != nil {
		return nil, &configError{err.Error()}
	}
	return g, nil
}

// approvalRow is one line of metricgate approvals.
type approvalRow struct {
	Query     string    `json:"query"`
	Path      string    `json:"path"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Commit    string    `json:"commit,omitempty"`
	MRIID     int64     `json:"mr_iid,omitempty"`
	MRURL     string    `json:"mr_url,omitempty"`
	Approvers []string  `json:"approvers"`
	MergedAt  time.Time `json:"merged_at,omitzero"`
}

func cmdApprovals(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "approvals", approvalsArgs, approvalsSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	format := fl.String("format", "text", "output `format`: text or json")
	if code, done := parseFlags(fl, args); done {
		return code
	}
	if fl.NArg() > 0 {
		return e.fail(ExitUsage, "approvals", "unexpected argument %q", fl.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return e.fail(ExitUsage, "approvals", "--format %q: must be text or json", *format)
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "approvals", "%v", err)
	}
	log := newLogger(e.stderr, slog.LevelWarn)
	defer flushLog(log)
	cat, problems, err := loadCatalog(cfg)
	if err != nil {
		return e.fail(ExitUsage, "approvals", "%v", err)
	}
	var approver runner.Approver
	var store *history.Store
	switch cfg.Queries.Approval {
	case "none":
		approver = review.None{}
	case "git":
		approver = review.Git{Dir: cfg.Queries.Dir, Branch: cfg.Queries.Branch}
	case "gitlab":
		if err := cfg.requireGitLab("queries.approval gitlab"); err != nil {
			return e.fail(ExitUsage, "approvals", "%v", err)
		}
		// The history database, when configured, holds the approvals
		// proven before: those cost no API call.
		if cfg.History.URL != "" {
			if store, err = openMigratedHistory(ctx, cfg.History.URL.Reveal()); err != nil {
				return e.fail(failCode(err), "approvals", "%v", err)
			}
			defer func() { _ = store.Close() }()
		}
		g, err := cfg.gitLabApprover(store, log)
		if err != nil {
			return e.fail(ExitUsage, "approvals", "%v", err)
		}
		approver = g
	}
	approvals, err := approver.Approve(ctx, cat.Queries)
	if err != nil {
		return e.fail(ExitProblems, "approvals", "%v", err)
	}
	rows := approvalRows(cfg, cat, problems, approvals)
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return e.fail(ExitProblems, "approvals", "write: %v", err)
		}
	} else {
		writeApprovals(e.stdout, cfg.Queries.Approval, rows)
	}
	for _, r := range rows {
		if r.State != string(review.Approved) {
			return ExitProblems
		}
	}
	return ExitOK
}

// approvalRows is one row per query file, valid or not, by path.
func approvalRows(cfg *Config, cat *catalog.Catalog, problems catalog.Problems, approvals map[string]review.Approval) []approvalRow {
	var rows []approvalRow
	for _, q := range cat.Queries {
		a := approvals[q.Name]
		state := string(a.State)
		if state == "" {
			state, a.Reason = string(review.Unknown), "no approval decision"
		}
		rows = append(rows, approvalRow{Query: q.Name, Path: cfg.Queries.Dir + "/" + q.Path, State: state,
			Reason: a.Reason, Commit: a.Commit, MRIID: a.MRIID, MRURL: a.MRURL,
			Approvers: append([]string{}, a.Approvers...), MergedAt: a.MergedAt})
	}
	// Files with problems are not in the catalog: one row each, not approved.
	seen := map[string]bool{}
	for _, p := range problems {
		if seen[p.Path] {
			continue
		}
		seen[p.Path] = true
		name := p.Path[strings.LastIndex(p.Path, "/")+1:]
		rows = append(rows, approvalRow{Query: strings.TrimSuffix(name, ".sql"), Path: p.Path, State: "invalid",
			Reason: "does not pass metricgate validate: " + p.Message, Approvers: []string{}})
	}
	return rows
}

// writeApprovals prints the approval table for people.
func writeApprovals(w io.Writer, mode string, rows []approvalRow) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "query\tstate\tmerge request\tapprovers\tnote")
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.State]++
		mr := "-"
		if r.MRIID != 0 {
			mr = cmpOr(r.MRURL, fmt.Sprintf("!%d", r.MRIID))
		}
		by := "-"
		if len(r.Approvers) > 0 {
			by = "@" + strings.Join(r.Approvers, ", @")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Query, r.State, mr, by, oneLine(r.Reason, 200))
	}
	_ = tw.Flush()
	var parts []string
	for _, s := range []string{"approved", "unapproved", "drifted", "unknown", "invalid"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	fmt.Fprintf(w, "\n%d query files, approval %s: %s\n", len(rows), mode, strings.Join(parts, ", "))
	if mode == "none" {
		fmt.Fprintln(w, "approval none proves nothing: for development only")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
