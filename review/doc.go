// Package review decides whether each query file is approved to run, as
// selected by queries.approval in the configuration. The runner runs only
// the queries whose Approval is OK and shows the Reason of the others on
// the status page; each run record keeps the Approval's Commit and Summary.
//
// # Modes
//
// None ("none") approves every query. It is for development and demos
// only: it proves nothing, and the status API says so on every response.
//
// Git ("git") approves a query when the text the runner will run is
// exactly the content of that file in the commit at HEAD, and HEAD is the
// configured branch (default "main"). It compares the git blob hash of
// Query.Text with the blob in HEAD's tree, so an edit made after the last
// commit shows as Drifted whether or not it has reached the disk, and a
// file that is not in HEAD's tree (untracked, or staged but not committed)
// is Unapproved. The repository is read with go-git, so no git binary is
// needed. Files outside the catalog, committed or not, do not matter.
//
// Git mode proves that the content is committed on the branch, and records
// the commit. It does not prove that anybody reviewed it: whoever can push
// to the branch, or commit in the checkout, approves. Protect the branch,
// deploy from a checkout nobody edits by hand, or use the gitlab mode.
// The comparison is byte for byte, so a checkout that rewrites files
// (core.autocrlf, eol or filter attributes such as Git LFS) shows drift.
//
// GitLab ("gitlab") proves, for each file, through GitLab's REST API
// (gitlab.com/gitlab-org/api/client-go), that the exact content the runner
// loaded was merged through a merge request that code owners of the file's
// path approved:
//
//  1. the last commit on the branch that touched the file
//     (repository/commits?ref_name=&path=, paginated);
//  2. the file at that commit (repository/files/:path?ref=), whose SHA-256
//     must equal Query.SHA256, else the file is Drifted;
//  3. the merged merge requests into the branch containing that commit
//     (repository/commits/:sha/merge_requests); none is Unapproved;
//  4. the merge request's approval_state: every code_owner rule whose
//     CODEOWNERS pattern matches the path (OwnsPath) approved, by at least
//     one approver; else Unapproved, saying who did approve (/approvals).
//
// When the last change is not approved but an earlier commit of the file
// is, the file is Drifted (approved, then changed without approval). An API
// failure makes the file Unknown; after a failure that means GitLab cannot
// be asked at all (no answer, 5xx, 401, 429 after the retries) the rest of
// the run's uncached files are Unknown without more calls. A 429 or 503 is
// retried after its Retry-After (or RateLimit-Reset) delay. An approval is
// cached (Cache, history.Store) by project, path, branch and content hash:
// an unchanged file costs no API call and stays approved while GitLab is
// down. The token is sent only in the PRIVATE-TOKEN header and is removed
// from any error text.
//
// GitLab also posts the one merge-request note of metricgate plan
// --mr-note (UpsertNote), and Changed lists the query files a merge request
// changes, against its base commit.
//
// Every mode returns one Approval per query, keyed by query name, and an
// error only when approval could not be decided at all (for example when
// HEAD is on another branch, or ctx ended); the runner then runs none of
// them.
package review
