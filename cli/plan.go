package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/metricgate/metricgate/runner"
)

const (
	planArgs    = "[--config FILE] NAME | --mr-note [--mr IID] [--base REF]"
	planSummary = "show what a query would load: columns and types, EXPLAIN cost, groups, a group-size histogram, suppressed rows (never a row of data)"
)

func cmdPlan(ctx context.Context, e *env, args []string) int {
	fl := newFlags(e, "plan", planArgs, planSummary)
	configPath := fl.String("config", "", "configuration `file` (default metricgate.yml when present)")
	mrNote := fl.Bool("mr-note", false, "plan every query the merge request changes and post the result as one note on it (in its pipeline)")
	mrIID := fl.Int64("mr", 0, "merge request `IID` for --mr-note (default $CI_MERGE_REQUEST_IID)")
	base := fl.String("base", "", "commit or branch to diff against for --mr-note (default $CI_MERGE_REQUEST_DIFF_BASE_SHA, else the target branch)")
	pos, code, done := parseInterleaved(fl, args)
	if done {
		return code
	}
	if *mrNote {
		if len(pos) > 0 {
			return e.fail(ExitUsage, "plan", "--mr-note plans the changed queries: name none")
		}
		return planNote(ctx, e, *configPath, *mrIID, *base)
	}
	if len(pos) != 1 {
		fl.Usage()
		return e.fail(ExitUsage, "plan", "name one query")
	}
	cfg, err := loadConfig(*configPath, e.environ)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	cat, problems, err := loadCatalog(cfg)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	name := strings.TrimSuffix(pos[0], ".sql")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	q, ok := cat.Lookup(name)
	if !ok {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p.String())
		}
		return e.fail(ExitUsage, "plan", "no valid query %q in %s%s", name, cfg.Queries.Dir, didYouMean(name, cat))
	}
	srcName, all := planSource(cfg, q.Source)
	switch {
	case len(all) == 0:
		return e.fail(ExitUsage, "plan", "%s: no source has role %q: add one to sources in the config", q.Path, q.Source)
	case srcName == "":
		return e.fail(ExitUsage, "plan", "sources.%s.url is not set: set it in the config file or METRICGATE_SOURCES_%s_URL",
			all[0], strings.ToUpper(all[0]))
	}
	g, err := newGuard(cfg)
	if err != nil {
		return e.fail(ExitUsage, "plan", "%v", err)
	}
	p, err := runner.PlanQuery(ctx, cfg.runnerSource(srcName), g, q)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return e.fail(ExitProblems, "plan", "interrupted")
		}
		return e.fail(ExitProblems, "plan", "%s: %v", q.Path, err)
	}
	writePlan(e.stdout, q.Name, srcName+sourceNote(srcName, q.Source, all), p)
	if len(p.Problems) > 0 {
		return ExitProblems
	}
	return ExitOK
}

// planSource picks the source plan runs a query of role on: the first (by
// name) source of the role whose URL is set, "" when none is. all lists
// every source of the role.
func planSource(cfg *Config, role string) (name string, all []string) {
	all = cfg.sourcesOfRole(role)
	for _, n := range all {
		if cfg.Sources[n].URL != "" {
			return n, all
		}
	}
	return "", all
}

// sourceNote says, after the name of the source a plan ran on, what else
// there is to know when the name is not the whole story: the role, and the
// role's other sources, which the run also runs the query on.
func sourceNote(name, role string, all []string) string {
	if name == role && len(all) == 1 {
		return ""
	}
	s := " (role " + role
	if len(all) > 1 {
		s += fmt.Sprintf("; planned on the first of its %d sources %s; the run runs it on each", len(all), strings.Join(all, ", "))
	}
	return s + ")"
}

// writePlan prints a plan for people: no data, only its shape and sizes.
// source says which source it ran on (its name and sourceNote).
func writePlan(w io.Writer, name, source string, p *runner.Plan) {
	fmt.Fprintf(w, "query %s on source %s\n\n", name, source)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "column\ttype\tkind")
	for _, c := range p.Columns {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Type, c.Kind)
	}
	_ = tw.Flush()
	limit := "no max_cost"
	if p.MaxCost > 0 {
		limit = fmt.Sprintf("max_cost %.0f", p.MaxCost)
	}
	fmt.Fprintf(w, "\nEXPLAIN cost  %.0f (%s)\n", p.Cost, limit)
	if p.Histogram != nil {
		fmt.Fprintf(w, "ran in        %s\n", p.Duration.Round(time.Millisecond))
		fmt.Fprintf(w, "would load    %d rows (max_rows %d)\n", p.Kept, p.MaxRows)
		fmt.Fprintf(w, "suppressed    %s rows with fewer than %d people, %s cells\n", p.Suppressed, p.MinGroupSize, p.SuppressedCells)
		fmt.Fprintf(w, "counted in    %s (each row needs %d distinct values of each)\n", strings.Join(p.Entities, ", "), p.MinGroupSize)
		if len(p.FineKeys) > 0 {
			fmt.Fprintf(w, "fine groups   most rows have fewer than %d people: check that the group keys (%s) are not close to unique\n",
				2*p.MinGroupSize, strings.Join(p.FineKeys, ", "))
		}
		fmt.Fprintln(w, "\npeople per row")
		var most int64 = 1
		for _, b := range p.Histogram {
			most = max(most, b.Groups)
		}
		for i, b := range p.Histogram {
			label := fmt.Sprintf("%d–%d", b.Low, b.High)
			if b.High == 0 {
				label = fmt.Sprintf("%d+", b.Low)
			}
			if i == 0 { // the suppressed groups: a decade, no bar
				fmt.Fprintf(w, "  %-12s %8s  suppressed\n", label, p.Suppressed)
				continue
			}
			bar := strings.Repeat("█", int((b.Groups*30+most-1)/most))
			fmt.Fprintf(w, "  %-12s %8d  %s\n", label, b.Groups, bar)
		}
	}
	if len(p.Problems) > 0 {
		fmt.Fprintln(w, "\nthe run would refuse it:")
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "  - %s\n", pr)
		}
	}
}
