package history

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gitlab.com/metricgate/metricgate/history/internal/db"
)

// ApprovalKey names one content of one file: what an approval proven in
// GitLab is cached by.
type ApprovalKey struct {
	// Project is the GitLab project, as configured (path or ID).
	Project string
	// Path is the file's path in the project's repository.
	Path string
	// Branch is the branch the file was merged into.
	Branch string
	// SHA256 is the hex SHA-256 of the file's content.
	SHA256 string
}

// CachedApproval is an approval proven in GitLab: the content named by Key
// was merged at Commit through merge request MRIID, whose code-owner rules
// for the path Approvers satisfied.
type CachedApproval struct {
	Key ApprovalKey
	// Commit is the full SHA of the last commit on the branch that touched
	// the file.
	Commit string
	// MRIID is the merge request's IID (the !12 of the project).
	MRIID int64
	// Approvers are the usernames of the people who approved it.
	Approvers []string
	// MergedAt is when the merge request was merged.
	MergedAt time.Time
	// CheckedAt is when metricgate proved it; zero means now.
	CheckedAt time.Time
}

// Approval returns the approval cached for key, or [ErrNotFound].
func (s *Store) Approval(ctx context.Context, key ApprovalKey) (CachedApproval, error) {
	row, err := s.q.GetApproval(ctx, s.db, db.GetApprovalParams{
		Project: key.Project, Path: key.Path, Branch: key.Branch, Sha256: key.SHA256})
	if err != nil {
		return CachedApproval{}, fmt.Errorf("read approval of %s: %w", key.Path, notFound(err))
	}
	return approvalOf(row), nil
}

// SaveApproval caches a, replacing what was cached for a.Key.
func (s *Store) SaveApproval(ctx context.Context, a CachedApproval) error {
	checked := a.CheckedAt
	if checked.IsZero() {
		checked = time.Now()
	}
	for _, name := range a.Approvers {
		if strings.Contains(name, ",") {
			return fmt.Errorf("save approval of %s: approver %q contains a comma", a.Key.Path, name)
		}
	}
	err := s.q.UpsertApproval(ctx, s.db, db.UpsertApprovalParams{
		Project:   a.Key.Project,
		Path:      a.Key.Path,
		Branch:    a.Key.Branch,
		Sha256:    a.Key.SHA256,
		Commit:    a.Commit,
		MrIid:     a.MRIID,
		Approvers: strings.Join(a.Approvers, ","),
		MergedAt:  nullTime(a.MergedAt),
		CheckedAt: checked.Truncate(time.Microsecond),
	})
	if err != nil {
		return fmt.Errorf("save approval of %s: %w", a.Key.Path, err)
	}
	return nil
}

// Approvals returns every approval cached for project, by path, newest
// check first.
func (s *Store) Approvals(ctx context.Context, project string) ([]CachedApproval, error) {
	rows, err := s.q.ListApprovals(ctx, s.db, project)
	if err != nil {
		return nil, fmt.Errorf("list approvals of %s: %w", project, err)
	}
	out := make([]CachedApproval, len(rows))
	for i, r := range rows {
		out[i] = approvalOf(r)
	}
	return out, nil
}

func approvalOf(r db.Approval) CachedApproval {
	a := CachedApproval{
		Key:       ApprovalKey{Project: r.Project, Path: r.Path, Branch: r.Branch, SHA256: r.Sha256},
		Commit:    r.Commit,
		MRIID:     r.MrIid,
		MergedAt:  timeOf(r.MergedAt),
		CheckedAt: r.CheckedAt.UTC(),
	}
	if r.Approvers != "" {
		a.Approvers = strings.Split(r.Approvers, ",")
	}
	return a
}

// nullInt64 stores 0 as NULL.
func nullInt64(n int64) sql.NullInt64 {
	return sql.NullInt64{Int64: n, Valid: n != 0}
}
