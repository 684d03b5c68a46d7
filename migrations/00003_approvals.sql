-- Approvals proven in GitLab (queries.approval: gitlab), and the merge
-- request of each query run. Conventions as in 00001.
--
-- approvals caches what review.GitLab proved about one file content: the
-- content (by its SHA-256) of the file at path in project, on branch, was
-- merged at commit through merge request mr_iid, whose code-owner rules for
-- the path were satisfied by approvers. The proof does not expire: the same
-- content at the same path on the same branch stays approved, so an
-- unchanged file costs no API call. Only approvals are cached; a file that
-- is not approved is asked about again on every run.

-- +goose Up
CREATE TABLE approvals (
    -- GitLab project (path or ID, as configured in gitlab.project).
    project    text        NOT NULL,
    -- The file's path in the project's repository, and the branch.
    path       text        NOT NULL,
    branch     text        NOT NULL,
    -- Hex SHA-256 of the approved content.
    sha256     text        NOT NULL CONSTRAINT approvals_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The last commit on the branch that touched the file, the merge
    -- request that merged it, when, and who approved it (usernames, comma
    -- separated).
    commit     text        NOT NULL,
    mr_iid     bigint      NOT NULL CONSTRAINT approvals_mr_iid_check CHECK (mr_iid > 0),
    approvers  text        NOT NULL DEFAULT '',
    merged_at  timestamptz,
    -- When metricgate proved it.
    checked_at timestamptz NOT NULL,
    PRIMARY KEY (project, path, branch, sha256)
);

COMMENT ON TABLE approvals IS 'metricgate: approvals proven in GitLab, by file content';

-- The merge request through which the query's file was approved; NULL
-- when the approval mode knows none (none, git) or the query did not run
-- approved.
ALTER TABLE query_runs ADD COLUMN mr_iid bigint;

-- +goose Down
ALTER TABLE query_runs DROP COLUMN mr_iid;
DROP TABLE approvals;
