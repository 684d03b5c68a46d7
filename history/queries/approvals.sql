-- Queries of the approval cache (review.GitLab): approvals proven in GitLab,
-- by project, path, branch and content hash.

-- name: GetApproval :one
SELECT * FROM approvals
WHERE project = @project AND path = @path AND branch = @branch AND sha256 = @sha256;

-- name: UpsertApproval :exec
INSERT INTO approvals (project, path, branch, sha256, commit, mr_iid, approvers, merged_at, checked_at)
VALUES (@project, @path, @branch, @sha256, @commit, @mr_iid, @approvers, sqlc.narg(merged_at), @checked_at)
ON CONFLICT (project, path, branch, sha256) DO UPDATE
SET commit = excluded.commit,
    mr_iid = excluded.mr_iid,
    approvers = excluded.approvers,
    merged_at = excluded.merged_at,
    checked_at = excluded.checked_at;

-- name: ListApprovals :many
-- Every cached approval of project, by path and newest check first.
SELECT * FROM approvals
WHERE project = @project
ORDER BY path, checked_at DESC;
