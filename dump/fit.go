package dump

import (
	"fmt"
	"slices"
	"strings"
)

// tableScopes is the one place that says which scopes fit which table:
// for every table the dump knows, the scopes a dump.yml may give it (the
// kind, the column it applies to, for target the column naming the class,
// for project the features that must be public at least), and why the
// others do not fit. [Parse] refuses any other scope of a known table and
// every table not listed here: the dump cannot know what an unknown
// table's rows hang off (a confidential flag, an internal flag, the
// feature they belong to, two objects at once), so no scope kind can be
// vouched for; a table is added here, reviewed by security (CODEOWNERS
// dump/), with the scopes that fit it.
//
// Tables linking two objects that must both be public
// (merge_requests_closing_issues: a public merge request closing a
// confidential issue) fit no kind and are not listed; neither are
// members (who belongs to what, pending invitations) and users (never
// exported).
var tableScopes = map[string]struct {
	fits []Scope
	why  string
}{
	"namespaces": {fits: []Scope{{Kind: "group", Column: "id"}},
		why: "a namespace is public when it is a group in scope (user and project namespaces are not groups)"},
	"routes": {fits: []Scope{{Kind: "target", Column: "source_id", Type: "source_type"}},
		why: "a route names a group or a project, public by the rule of its source_type"},
	"projects": {fits: []Scope{{Kind: "project", Column: "id"}},
		why: "a project is public by the project rule"},
	"project_features": {fits: []Scope{{Kind: "project", Column: "project_id"}},
		why: "a project's feature levels are public with the project"},
	"issues": {fits: []Scope{{Kind: "issue", Column: "id"}},
		why: "only the issue kind checks confidential, the project's issues feature and the author's ban"},
	"issue_metrics": {fits: []Scope{{Kind: "issue", Column: "issue_id"}},
		why: "a metrics row is public with its issue (not confidential, issues feature public, author not banned)"},
	"issue_assignees": {fits: []Scope{{Kind: "issue", Column: "issue_id"}},
		why: "an assignment is public with its issue (not confidential, issues feature public, author not banned)"},
	"merge_requests": {fits: []Scope{{Kind: "merge_request", Column: "id"}},
		why: "only the merge_request kind checks the target project's merge requests and repository features and the author's ban"},
	"merge_request_metrics": {fits: []Scope{{Kind: "merge_request", Column: "merge_request_id"}},
		why: "a metrics row is public with its merge request"},
	"merge_request_assignees": {fits: []Scope{{Kind: "merge_request", Column: "merge_request_id"}},
		why: "an assignment is public with its merge request"},
	"merge_request_reviewers": {fits: []Scope{{Kind: "merge_request", Column: "merge_request_id"}},
		why: "a review request is public with its merge request"},
	"notes": {fits: []Scope{{Kind: "note", Column: "id"}},
		why: "only the note kind checks internal and confidential notes and the noteable's own scope"},
	"labels": {fits: []Scope{{Kind: "label", Column: "id"}},
		why: "a label is public when its group is in scope or its project's issues or merge requests are public"},
	"label_links": {fits: []Scope{{Kind: "target", Column: "target_id", Type: "target_type"}},
		why: "a label link is public with the issue or merge request it labels"},
	"milestones": {fits: []Scope{{Kind: "milestone", Column: "id"}},
		why: "a milestone is public when its group is in scope or its project's issues or merge requests are public"},
	"events": {fits: []Scope{{Kind: "event", Column: "target_id"}},
		why: "an event is public with its project and its target, or, without a target (a push), with the repository"},
	"ci_pipelines": {fits: []Scope{{Kind: "pipeline", Column: "id"}},
		why: "only the pipeline kind checks public_builds, the builds and repository features and the pipeline's merge request"},
	"ci_builds": {fits: []Scope{{Kind: "pipeline", Column: "commit_id"}},
		why: "a job is public with its pipeline (ci_builds.commit_id)"},
	"ci_stages": {fits: []Scope{{Kind: "pipeline", Column: "pipeline_id"}},
		why: "a stage is public with its pipeline"},
	"environments": {fits: []Scope{{Kind: "project", Column: "project_id", Features: []string{"environments"}}},
		why: "environments are public with the project's environments feature"},
	"releases": {fits: []Scope{{Kind: "project", Column: "project_id", Features: []string{"releases", "repository"}}},
		why: "releases are public with the project's releases and repository features"},
}

// fits reports whether scope s is one of those that fit.
func (s Scope) fits(want Scope) bool {
	if s.Kind != want.Kind || s.Column != want.Column || s.Type != want.Type {
		return false
	}
	for _, f := range want.Features {
		if !slices.Contains(s.Features, f) {
			return false
		}
	}
	return true
}

// String renders the scope as dump.yml writes it: {issue: id},
// {target: target_id, type: target_type}, {project: id, features: [...]}.
func (s Scope) String() string {
	parts := []string{s.Kind + ": " + s.Column}
	if s.Type != "" {
		parts = append(parts, "type: "+s.Type)
	}
	if len(s.Features) > 0 {
		parts = append(parts, "features: ["+strings.Join(s.Features, ", ")+"]")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// scopeFit says what is wrong with scope s of table, "" when it fits.
func scopeFit(table string, s Scope) string {
	ts, ok := tableScopes[table]
	if !ok {
		return fmt.Sprintf("table %s: the dump does not know this table, so no scope can be vouched for "+
			"(its rows may hang off confidential or internal objects): leave it out, or add it to tableScopes in dump/fit.go "+
			"with the scopes that fit it, reviewed by security", table)
	}
	for _, f := range ts.fits {
		if s.fits(f) {
			return ""
		}
	}
	want := make([]string, len(ts.fits))
	for i, f := range ts.fits {
		want[i] = "scope: " + f.String()
		if len(f.Features) > 0 {
			want[i] += " (features at least those)"
		}
	}
	return fmt.Sprintf("table %s: scope %s does not fit the table: want %s; %s",
		table, s, strings.Join(want, " or "), ts.why)
}
