package review

import (
	"context"
	"time"

	"gitlab.com/metricgate/metricgate/catalog"
)

// State is the approval state of one query file.
type State string

// Approval states.
const (
	// Approved: the file may run.
	Approved State = "approved"
	// Unapproved: the file was never approved, for example because it is
	// not committed.
	Unapproved State = "unapproved"
	// Drifted: the file was approved, but the text to run differs from the
	// approved content.
	Drifted State = "drifted"
	// Unknown: approval could not be decided, for example because the
	// GitLab API did not answer or Approve returned an error. The file
	// does not run; Reason says why.
	Unknown State = "unknown"
)

// An Approval is the decision for one query file.
type Approval struct {
	// State is the decision; only Approved lets the file run.
	State State
	// Reason says why the file is not approved, for the status page. It
	// is empty when the file is approved and never holds secrets.
	Reason string
	// Commit is the full SHA of the commit the content was approved at;
	// empty unless approved in a mode that knows one.
	Commit string
	// Summary is one line for the history record saying how the decision
	// was made, such as "git 1a2b3c4d5e6f on main",
	// "gitlab !12 by @a, @b at 1a2b3c4d5e6f" or "none (development only)".
	Summary string
	// MRIID is the IID of the merge request through which the content was
	// approved (the 12 of !12); 0 unless approved in the gitlab mode.
	MRIID int64
	// MRURL is the merge request's web address, when known.
	MRURL string
	// Approvers are the usernames of the code owners who approved the
	// merge request, sorted.
	Approvers []string
	// MergedAt is when the merge request was merged.
	MergedAt time.Time
}

// OK reports whether the file may run.
func (a Approval) OK() bool { return a.State == Approved }

// None approves every query: approval is off. It is for development and
// demos only.
type None struct{}

// noneSummary is the Summary of every approval by None.
const noneSummary = "none (development only)"

// Approve approves every query in queries.
func (None) Approve(ctx context.Context, queries []*catalog.Query) (map[string]Approval, error) {
	approvals := make(map[string]Approval, len(queries))
	for _, q := range queries {
		approvals[q.Name] = Approval{State: Approved, Summary: noneSummary}
	}
	return approvals, nil
}
