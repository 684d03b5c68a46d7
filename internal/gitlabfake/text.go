package gitlabfake

import (
	"math/rand/v2"
	"strings"
)

// The vocabulary of the generated text. None of it contains the canary
// prefix, so public rows are canary-free by construction.

var firstNames = []string{
	"Amelia", "Bruno", "Chen", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jakub",
	"Kavya", "Lars", "Mei", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
	"Uma", "Viktor", "Wanjiru", "Ximena", "Yusuf", "Zofia", "Aiko", "Bilal", "Camille", "Diego",
	"Elif", "Finn", "Gabriela", "Hamza", "Ingrid", "Joao", "Keiko", "Luca", "Maya", "Nikolai",
	"Olga", "Pedro", "Rahul", "Sofia", "Thomas", "Valentina", "William", "Yara", "Zain", "Anouk",
}

var lastNames = []string{
	"Adeyemi", "Bergstrom", "Castillo", "Dubois", "Eriksen", "Fernandes", "Gupta", "Hoffmann", "Ivanova", "Jansen",
	"Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka",
	"Ueda", "Vasquez", "Walsh", "Xu", "Yilmaz", "Zhang", "Abbott", "Novak", "Costa", "Haddad",
	"Kim", "Larsen", "Mendes", "Nguyen", "Oliveira", "Park", "Reyes", "Silva", "Takahashi", "Weber",
}

var titleVerbs = []string{
	"Fix", "Add", "Improve", "Remove", "Refactor", "Update", "Document", "Investigate",
	"Support", "Migrate", "Optimize", "Deprecate", "Backport", "Clean up", "Validate",
}

var titleObjects = []string{
	"merge request widget", "pipeline graph", "issue board", "CI lint endpoint", "container registry cleanup",
	"search indexing", "project import", "group settings page", "runner registration", "webhook retries",
	"code owners approval rules", "vulnerability report", "wiki editor", "snippet sharing", "package registry",
	"user profile page", "audit events", "deploy keys", "release notes", "LFS uploads",
	"merge train", "review app cleanup", "dependency proxy", "labels API", "milestone burndown chart",
	"notification emails", "two-factor recovery flow", "rebase button", "diff file tree", "environment dashboard",
	"project templates", "repository mirroring", "protected branches", "job artifacts expiry", "Gitaly timeouts",
	"database migrations", "background migrations", "Sidekiq queue routing", "rate limits", "GraphQL pagination",
}

var titleContexts = []string{
	"", "", "", "for large projects", "on mobile", "in dark mode", "behind a feature flag",
	"for self-managed instances", "in the REST API", "in GraphQL", "for group owners",
	"when the pipeline is skipped", "after a force push", "for archived projects", "with many reviewers",
}

var sentences = []string{
	"This happens on every page load for projects with more than a thousand branches.",
	"We noticed it while reviewing the last release candidate.",
	"The current behaviour is confusing for new contributors.",
	"A workaround is to reload the page, but that is not great.",
	"The query plan shows a sequential scan on a large table.",
	"Users reported this in the community forum.",
	"This blocks the next step of the rollout.",
	"The fix should be small and safe to backport.",
	"We should add a regression spec for this case.",
	"Performance degrades linearly with the number of pipelines.",
	"The API returns a 500 instead of a validation error.",
	"Screenshots are attached below.",
	"It only reproduces with the feature flag enabled.",
	"This was introduced by the refactoring in the previous milestone.",
	"The documentation does not mention this limitation.",
	"Error budgets for this group are close to the limit.",
}

var comments = []string{
	"LGTM, thanks!",
	"Could you add a spec for this?",
	"I think we should split this into two merge requests.",
	"Thanks for the review, addressed all comments.",
	"Rebased on the default branch.",
	"This is ready for another look.",
	"Nice catch!",
	"Can we add a changelog entry?",
	"I could reproduce this locally.",
	"Does this need a database review?",
	"Approving, but please wait for the pipeline.",
	"This looks like a duplicate of an older issue.",
	"Moving this to the next milestone.",
	"I have a draft fix, will open a merge request soon.",
	"Can you share the steps to reproduce?",
	"The flaky spec failed again on the default branch.",
	"Let's discuss this in the weekly sync.",
	"Please take a look when you have a moment.",
}

var projectDescriptions = []string{
	"Tools and automation used by the team.",
	"An experiment that may become a feature.",
	"Configuration and scripts for our infrastructure.",
	"A small library shared by several services.",
	"Documentation site sources.",
	"Command-line helpers for day-to-day work.",
}

var projectWords = []string{
	"atlas", "beacon", "cobalt", "delta", "ember", "falcon", "granite", "harbor", "iris", "juniper",
	"kepler", "lumen", "meridian", "nimbus", "orbit", "prism", "quartz", "relay", "summit", "tundra",
	"umbra", "vertex", "willow", "xenon", "yonder", "zephyr",
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// title makes an issue or merge request title.
func title(r *rand.Rand) string {
	s := pick(r, titleVerbs) + " " + pick(r, titleObjects)
	if c := pick(r, titleContexts); c != "" {
		s += " " + c
	}
	return s
}

// description makes a markdown description of a few sentences.
func description(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("## Summary\n\n")
	for n := 1 + r.IntN(3); n > 0; n-- {
		b.WriteString(pick(r, sentences))
		b.WriteByte(' ')
	}
	b.WriteString("\n\n## Proposal\n\n")
	b.WriteString(pick(r, sentences))
	b.WriteByte('\n')
	return b.String()
}

// slug turns a title into a branch-name fragment.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

const hexDigits = "0123456789abcdef"

// sha returns n random hex digits.
func sha(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[r.IntN(16)]
	}
	return string(b)
}
