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
// GitLab ("gitlab"), to come in this package, will require for each file
// that the last commit on the default branch that touched it belongs to a
// merged merge request whose approvals satisfy the code-owner rule for the
// file's path, and will record the merge request and its approvers.
//
// Every mode returns one Approval per query, keyed by query name, and an
// error only when approval could not be decided at all (for example when
// HEAD is on another branch); the runner then runs none of them.
package review
