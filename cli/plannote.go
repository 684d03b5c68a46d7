package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/guard"
	"gitlab.com/metricgate/metricgate/review"
	"gitlab.com/metricgate/metricgate/runner"
)

// noteMarker is the hidden first line of the note plan --mr-note posts: it
// finds the note again on the next pipeline, to update it in place.
const noteMarker = "<!-- metricgate:plan-note -->"

var errNoMR = errors.New("no merge request: run in a merge-request pipeline (CI_MERGE_REQUEST_IID) or pass --mr IID")

// planNote is metricgate plan --mr-note: validate and plan every query file
// the merge request changes, on the configured source (a sample database
// in the pipeline), and post or update one note on the merge request.
func planNote(ctx context.Context, e *env, configPath string, iid int64, base string) int {
	cfg, err := loadConfig(configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	vars := envMap(e.environ)
	if iid == 0 {
		if v := vars["CI_MERGE_REQUEST_IID"]; v != "" {
			if iid, err = strconv.ParseInt(v, 10, 64); err != nil {
				return e.fail(ExitUsage, "plan", "CI_MERGE_REQUEST_IID %q: not a number", v)
			}
		}
	}
	if iid <= 0 {
		return e.fail(ExitUsage, "plan", "%v", errNoMR)
	}
	if v := vars["CI_PROJECT_ID"]; v != "" {
		cfg.GitLab.Project = v
	}
	if v := vars["CI_API_V4_URL"]; v != "" {
		cfg.GitLab.URL = strings.TrimSuffix(strings.TrimSuffix(v, "/"), "/api/v4")
	}
	if base == "" {
		base = vars["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
	}
	if base == "" {
		base = cmpOr(vars["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"], cfg.Queries.Branch)
	}
	if err := cfg.requireGitLab("plan --mr-note"); err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	log := newLogger(e.stderr, slog.LevelWarn)
	defer flushLog(log)
	g, err := cfg.gitLabApprover(nil, log)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	changes, err := review.Changed(cfg.Queries.Dir, base)
	if err != nil {
		return e.fail(ExitProblems, "plan", "%v", err)
	}
	cat, problems, err := loadCatalog(cfg)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	gd, err := newGuard(cfg)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	body, refused := renderNote(ctx, cfg, cat, problems, gd, changes)
	id, updated, err := g.UpsertNote(ctx, iid, noteMarker, body)
	if err != nil {
		return e.fail(ExitProblems, "plan", "%v", err)
	}
	verb := "posted"
	if updated {
		verb = "updated"
	}
	fmt.Fprintf(e.stdout, "%s note %d on !%d: %d changed query files, %d would be refused\n",
		verb, id, iid, len(changes.Changed), refused)
	if refused > 0 {
		return ExitProblems
	}
	return ExitOK
}

// renderNote writes the note's Markdown: per changed file, the validate
// verdict and, for a valid query, its plan on its source. It never holds a
// row of data: a Plan has none. refused counts the files the run would
// refuse.
func renderNote(ctx context.Context, cfg *Config, cat *catalog.Catalog, problems catalog.Problems, g *guard.Guard,
	changes *review.Changes) (body string, refused int) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n### metricgate plan\n\n", noteMarker)
	if len(changes.Changed) == 0 && len(changes.Removed) == 0 {
		fmt.Fprintf(&b, "No query file under `%s` changed since `%s`.\n", cfg.Queries.Dir, short(changes.Base))
		return b.String(), 0
	}
	fmt.Fprintf(&b, "Query files changed since `%s`, checked by `metricgate validate` and planned on the "+
		"pipeline's sample database: shapes and sizes only, never a row of data.\n", short(changes.Base))
	byPath := map[string]*catalog.Query{}
	for _, q := range cat.Queries {
		byPath[q.Path] = q
	}
	for _, p := range changes.Changed {
		full := cfg.Queries.Dir + "/" + p
		q := byPath[p]
		var msgs []string
		for _, pr := range problems {
			if pr.Path == full {
				msgs = append(msgs, pr.String())
			}
		}
		if q != nil {
			_, vs := g.CheckQuery(q)
			for _, v := range vs {
				msgs = append(msgs, fmt.Sprintf("%s:%s", full, v))
			}
		}
		if len(msgs) > 0 {
			refused++
			fmt.Fprintf(&b, "\n#### `%s`: fails validate\n\n", full)
			for _, m := range msgs {
				fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(m, "`", "'"))
			}
			continue
		}
		fmt.Fprintf(&b, "\n#### `%s`: passes validate\n\n", full)
		srcName, all := planSource(cfg, q.Source)
		if srcName == "" {
			name := q.Source
			if len(all) > 0 {
				name = all[0]
			}
			fmt.Fprintf(&b, "Not planned: no database for source `%s` (role `%s`) in this pipeline (set METRICGATE_SOURCES_%s_URL to a sample database).\n",
				name, q.Source, strings.ToUpper(name))
			continue
		}
		planCtx, cancel := context.WithTimeoutCause(ctx, q.Timeout+time.Minute,
			fmt.Errorf("plan %s: no answer within its timeout %s", q.Name, q.Timeout))
		p, err := runner.PlanQuery(planCtx, cfg.runnerSource(srcName), g, q)
		cancel()
		if err != nil {
			refused++
			fmt.Fprintf(&b, "Planning on source `%s` failed: `%s`\n", srcName, strings.ReplaceAll(oneLine(err.Error(), 300), "`", "'"))
			continue
		}
		if len(p.Problems) > 0 {
			refused++
		}
		writeNotePlan(&b, q, "`"+srcName+"`"+sourceNote(srcName, q.Source, all), p)
	}
	if len(changes.Removed) > 0 {
		b.WriteString("\n#### Removed\n\n")
		for _, p := range changes.Removed {
			fmt.Fprintf(&b, "- `%s/%s`: no longer runs; its warehouse table stays\n", cfg.Queries.Dir, p)
		}
	}
	return b.String(), refused
}

// writeNotePlan writes one plan as Markdown.
func writeNotePlan(b *strings.Builder, q *catalog.Query, source string, p *runner.Plan) {
	fmt.Fprintf(b, "Source %s, `load: %s`, `schedule: %s`.\n\n", source, q.Load, q.Schedule)
	b.WriteString("| column | type | kind |\n|---|---|---|\n")
	for _, c := range p.Columns {
		fmt.Fprintf(b, "| `%s` | `%s` | %s |\n", c.Name, c.Type, c.Kind)
	}
	limit := "no `max_cost`"
	if p.MaxCost > 0 {
		limit = fmt.Sprintf("`max_cost` %.0f", p.MaxCost)
	}
	fmt.Fprintf(b, "\n- EXPLAIN cost: **%.0f** (%s)\n", p.Cost, limit)
	if p.Histogram != nil {
		fmt.Fprintf(b, "- would load **%d** rows (`max_rows` %d)\n", p.Kept, p.MaxRows)
		fmt.Fprintf(b, "- suppressed: **%s** rows with fewer than %d people, **%s** cells\n", p.Suppressed, p.MinGroupSize, p.SuppressedCells)
		fmt.Fprintf(b, "- each row counted in: %s (at least %d distinct of each)\n", "`"+strings.Join(p.Entities, "`, `")+"`", p.MinGroupSize)
		if len(p.FineKeys) > 0 {
			fmt.Fprintf(b, "- :warning: most rows have fewer than %d people: check that the group keys (`%s`) are not close to unique\n",
				2*p.MinGroupSize, strings.Join(p.FineKeys, "`, `"))
		}
		b.WriteString("\n| people per row | rows |\n|---|---:|\n")
		for i, bk := range p.Histogram {
			label := fmt.Sprintf("%d–%d", bk.Low, bk.High)
			if bk.High == 0 {
				label = fmt.Sprintf("%d+", bk.Low)
			}
			if i == 0 {
				fmt.Fprintf(b, "| %s (suppressed) | %s |\n", label, p.Suppressed)
				continue
			}
			fmt.Fprintf(b, "| %s | %d |\n", label, bk.Groups)
		}
	}
	if len(p.Problems) > 0 {
		b.WriteString("\n**The run would refuse it:**\n\n")
		for _, pr := range p.Problems {
			fmt.Fprintf(b, "- %s\n", strings.ReplaceAll(pr, "`", "'"))
		}
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
