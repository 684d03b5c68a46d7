package review

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/hashicorp/go-retryablehttp"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"gitlab.com/metricgate/metricgate/catalog"
	"gitlab.com/metricgate/metricgate/history"
)

// Defaults of GitLabConfig.
const (
	DefaultGitLabURL  = "https://gitlab.com"
	DefaultPrefix     = "queries"
	defaultRetries    = 5
	defaultRetryWait  = time.Second
	defaultMaxWait    = 5 * time.Minute
	defaultMaxCommits = 100
	pageSize          = 20
)

// GitLabConfig configures a GitLab approver. Zero values mean the
// documented defaults.
type GitLabConfig struct {
	// URL of the GitLab instance, without /api/v4. Default
	// "https://gitlab.com".
	URL string
	// Token is a personal, project or group access token with read_api
	// (and api for posting merge-request notes). Required. It is sent only
	// in the PRIVATE-TOKEN header and never appears in errors or logs.
	Token string
	// Project holding the queries, as a path ("analytics/queries") or a
	// numeric ID. Required.
	Project string
	// Branch is the default branch queries are merged into. Default
	// DefaultBranch ("main").
	Branch string
	// Prefix is the queries directory's path in the project's
	// repository: Query.Path is relative to it. Default "queries".
	Prefix string
	// Retries is how often a request is retried after a 429 (after the
	// Retry-After delay), a 5xx or a refused connection. Default 5.
	Retries int
	// RetryWait is the wait before the first retry of a 5xx or a refused
	// connection; it doubles each time. Default 1s.
	RetryWait time.Duration
	// MaxWait caps the delay of one retry, including a Retry-After or
	// RateLimit-Reset header. Default 5m.
	MaxWait time.Duration
	// MaxCommits is how many commits that touched a file are examined,
	// newest first, to tell a drifted file (approved once, changed since
	// without approval) from one never approved. Default 100.
	MaxCommits int
	// HTTPClient makes the requests. Default: a pooled client of its own.
	HTTPClient *http.Client
}

func (c GitLabConfig) withDefaults() GitLabConfig {
	c.URL = strings.TrimSuffix(cmp.Or(c.URL, DefaultGitLabURL), "/")
	c.Branch = cmp.Or(c.Branch, DefaultBranch)
	c.Prefix = strings.Trim(cmp.Or(c.Prefix, DefaultPrefix), "/")
	c.Retries = cmp.Or(c.Retries, defaultRetries)
	c.RetryWait = cmp.Or(c.RetryWait, defaultRetryWait)
	c.MaxWait = cmp.Or(c.MaxWait, defaultMaxWait)
	c.MaxCommits = cmp.Or(c.MaxCommits, defaultMaxCommits)
	return c
}

// validate names the first field that cannot work.
func (c GitLabConfig) validate() error {
	switch {
	case c.Token == "":
		return errors.New("gitlab.token: not set")
	case c.Project == "":
		return errors.New("gitlab.project: not set")
	case !strings.HasPrefix(c.URL, "https://") && !strings.HasPrefix(c.URL, "http://"):
		return fmt.Errorf("gitlab.url %q: want an http(s) URL", c.URL)
	case strings.HasPrefix(c.Branch, "refs/"):
		return fmt.Errorf("branch %q: a reference name, want a branch name such as %q", c.Branch, DefaultBranch)
	case c.Retries < 0:
		return fmt.Errorf("retries %d: must not be negative", c.Retries)
	}
	return nil
}

// Cache remembers the approvals GitLab proved, by file content
// (history.Store). A missing entry is history.ErrNotFound.
type Cache interface {
	Approval(ctx context.Context, key history.ApprovalKey) (history.CachedApproval, error)
	SaveApproval(ctx context.Context, a history.CachedApproval) error
}

// GitLab approves a query when the exact content the runner loaded was
// merged into the default branch through a merge request whose code-owner
// rules for the file's path were satisfied; see the package doc. It is safe
// for concurrent use.
type GitLab struct {
	cfg    GitLabConfig
	client *gitlab.Client
	cache  Cache
	log    *slog.Logger
}

// NewGitLab returns a GitLab approver. cache may be nil (every Approve
// then asks GitLab about every file); log defaults to discarding.
func NewGitLab(cfg GitLabConfig, cache Cache, log *slog.Logger) (*GitLab, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("gitlab approval: %w", err)
	}
	opts := []gitlab.ClientOptionFunc{
		gitlab.WithBaseURL(cfg.URL + "/api/v4"),
		gitlab.WithCustomRetryMax(cfg.Retries),
		gitlab.WithCustomRetryWaitMinMax(cfg.RetryWait, cfg.MaxWait),
		gitlab.WithCustomBackoff(backoff(cfg.MaxWait)),
	}
	if cfg.Retries == 0 {
		opts = append(opts, gitlab.WithoutRetries())
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, gitlab.WithHTTPClient(cfg.HTTPClient))
	}
	client, err := gitlab.NewClient(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("gitlab approval: %w", redactToken(err, cfg.Token))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &GitLab{cfg: cfg, client: client, cache: cache, log: log}, nil
}

// Branch is the branch approvals are proven on.
func (g *GitLab) Branch() string { return g.cfg.Branch }

// Project is the configured project.
func (g *GitLab) Project() string { return g.cfg.Project }

// RepoPath is the path of query q's file in the project's repository.
func (g *GitLab) RepoPath(q *catalog.Query) string { return path.Join(g.cfg.Prefix, q.Path) }

// MRURL is the web address of merge request iid of the project, built from
// the configuration (no API call).
func (g *GitLab) MRURL(iid int64) string {
	return fmt.Sprintf("%s/%s/-/merge_requests/%d", g.cfg.URL, g.cfg.Project, iid)
}

// backoff waits what a 429 (or 503) asks for in Retry-After (seconds or an
// HTTP date), else until RateLimit-Reset, else doubles from min; never more
// than maxWait.
func backoff(maxWait time.Duration) retryablehttp.Backoff {
	return func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			if d, ok := retryAfter(resp.Header, time.Now()); ok {
				return min(d, maxWait)
			}
		}
		d := time.Duration(float64(lo) * math.Pow(2, float64(attempt)))
		return min(d, hi, maxWait)
	}
}

// retryAfter reads the delay a rate-limited response asks for.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil && unix > 0 {
			return max(time.Unix(unix, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

// Approve decides each query; see the package doc. An API failure makes
// the queries it could not decide Unknown (cached approvals still hold):
// Approve returns an error only when ctx ends.
func (g *GitLab) Approve(ctx context.Context, queries []*catalog.Query) (map[string]Approval, error) {
	s := &session{g: g}
	approvals := make(map[string]Approval, len(queries))
	for _, q := range queries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("approve queries with gitlab: %w", context.Cause(ctx))
		}
		a := s.approve(ctx, q)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("approve queries with gitlab: %w", context.Cause(ctx))
		}
		approvals[q.Name] = a
		g.log.LogAttrs(ctx, slog.LevelInfo, "approval", slog.String("query", q.Name),
			slog.String("state", string(a.State)), slog.Int64("mr_iid", a.MRIID), slog.String("reason", a.Reason))
	}
	return approvals, nil
}

// session is the state of one Approve: once GitLab is found unreachable,
// the remaining files are not asked about.
type session struct {
	g    *GitLab
	down error
}

func (s *session) approve(ctx context.Context, q *catalog.Query) Approval {
	g := s.g
	p := g.RepoPath(q)
	key := history.ApprovalKey{Project: g.cfg.Project, Path: p, Branch: g.cfg.Branch, SHA256: q.SHA256}
	if g.cache != nil {
		c, err := g.cache.Approval(ctx, key)
		switch {
		case err == nil:
			a := g.approved(c.Commit, c.MRIID, g.MRURL(c.MRIID), c.Approvers, c.MergedAt)
			a.Summary += " (cached)"
			return a
		case !errors.Is(err, history.ErrNotFound):
			g.log.Warn("read the approval cache", slog.String("query", q.Name), slog.String("error", err.Error()))
		}
	}
	if s.down != nil {
		return Approval{State: Unknown, Reason: "GitLab API: " + s.down.Error(), Summary: "gitlab (unknown)"}
	}
	a, err := s.prove(ctx, q, p)
	if err != nil {
		err = redactToken(err, g.cfg.Token)
		if unreachable(err) {
			s.down = err
		}
		return Approval{State: Unknown, Reason: "GitLab API: " + err.Error(), Summary: "gitlab (unknown)"}
	}
	if a.Summary == "" {
		a.Summary = fmt.Sprintf("gitlab %s", a.State)
	}
	if a.OK() && g.cache != nil {
		err := g.cache.SaveApproval(ctx, history.CachedApproval{Key: key, Commit: a.Commit, MRIID: a.MRIID,
			Approvers: a.Approvers, MergedAt: a.MergedAt})
		if err != nil {
			g.log.Warn("save to the approval cache", slog.String("query", q.Name), slog.String("error", err.Error()))
		}
	}
	return a
}

// approved is the Approval of content merged at commit through MR iid.
func (g *GitLab) approved(commit string, iid int64, url string, approvers []string, mergedAt time.Time) Approval {
	by := make([]string, len(approvers))
	for i, a := range approvers {
		by[i] = "@" + a
	}
	return Approval{State: Approved, Commit: commit, MRIID: iid, MRURL: url, Approvers: approvers, MergedAt: mergedAt,
		Summary: fmt.Sprintf("gitlab !%d by %s at %s", iid, strings.Join(by, ", "), short(commit))}
}

// prove asks GitLab about q, whose file is at p in the repository.
func (s *session) prove(ctx context.Context, q *catalog.Query, p string) (Approval, error) {
	g := s.g
	commits, err := s.commits(ctx, p)
	if err != nil {
		return Approval{}, err
	}
	if len(commits) == 0 {
		return Approval{State: Unapproved, Reason: fmt.Sprintf("not merged: no commit on %s touches %s", g.cfg.Branch, p)}, nil
	}
	last := commits[0]
	content, found, err := s.content(ctx, p, last.ID)
	if err != nil {
		return Approval{}, err
	}
	if !found {
		return Approval{State: Unapproved, Reason: fmt.Sprintf("deleted on %s by commit %s", g.cfg.Branch, short(last.ID))}, nil
	}
	if content != q.SHA256 {
		return Approval{State: Drifted, Reason: fmt.Sprintf("differs from %s at %s, the last commit on %s that touched it",
			p, short(last.ID), g.cfg.Branch)}, nil
	}
	a, why, err := s.commitApproval(ctx, p, last.ID)
	if err != nil || why == "" {
		return a, err
	}
	// The last change was not approved: was an earlier one?
	for _, c := range commits[1:] {
		earlier, no, err := s.commitApproval(ctx, p, c.ID)
		if err != nil {
			return Approval{}, err
		}
		if no == "" {
			return Approval{State: Drifted, Reason: fmt.Sprintf("approved in !%d at %s, then changed by commit %s: %s",
				earlier.MRIID, short(c.ID), short(last.ID), why)}, nil
		}
	}
	return Approval{State: Unapproved, Reason: why}, nil
}

// commits lists the commits on the branch that touched p, newest first, at
// most MaxCommits, following the pagination.
func (s *session) commits(ctx context.Context, p string) ([]*gitlab.Commit, error) {
	g := s.g
	opt := &gitlab.ListCommitsOptions{ListOptions: gitlab.ListOptions{PerPage: pageSize},
		RefName: gitlab.Ptr(g.cfg.Branch), Path: gitlab.Ptr(p)}
	var out []*gitlab.Commit
	for c, err := range gitlab.Scan2(func(po gitlab.PaginationOptionFunc) ([]*gitlab.Commit, *gitlab.Response, error) {
		return g.client.Commits.ListCommits(g.cfg.Project, opt, po, gitlab.WithContext(ctx))
	}) {
		if err != nil {
			return nil, fmt.Errorf("list commits of %s on %s: %w", p, g.cfg.Branch, err)
		}
		out = append(out, c)
		if len(out) >= g.cfg.MaxCommits {
			break
		}
	}
	return out, nil
}

// content returns the hex SHA-256 of p at commit sha, computed from the
// bytes GitLab returns (and checked against GitLab's content_sha256);
// found is false when p is not in that commit.
func (s *session) content(ctx context.Context, p, sha string) (sum string, found bool, err error) {
	g := s.g
	f, resp, err := g.client.RepositoryFiles.GetFile(g.cfg.Project, p, &gitlab.GetFileOptions{Ref: gitlab.Ptr(sha)},
		gitlab.WithContext(ctx))
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s at %s: %w", p, short(sha), err)
	}
	var data []byte
	switch f.Encoding {
	case "base64":
		if data, err = base64.StdEncoding.DecodeString(f.Content); err != nil {
			return "", false, fmt.Errorf("read %s at %s: decode content: %w", p, short(sha), err)
		}
	case "text", "":
		data = []byte(f.Content)
	default:
		return "", false, fmt.Errorf("read %s at %s: unknown encoding %q", p, short(sha), f.Encoding)
	}
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	if f.SHA256 != "" && !strings.EqualFold(f.SHA256, sum) {
		return "", false, fmt.Errorf("read %s at %s: content_sha256 %s does not match the content", p, short(sha), f.SHA256)
	}
	return sum, true, nil
}

// commitApproval decides whether commit sha reached the branch through a
// merged merge request whose code-owner rules for p are satisfied. why is
// empty when it did, else says why not.
func (s *session) commitApproval(ctx context.Context, p, sha string) (a Approval, why string, err error) {
	g := s.g
	var merged, other []*gitlab.BasicMergeRequest
	for mr, err := range gitlab.Scan2(func(po gitlab.PaginationOptionFunc) ([]*gitlab.BasicMergeRequest, *gitlab.Response, error) {
		return g.client.Commits.ListMergeRequestsByCommit(g.cfg.Project, sha, po, gitlab.WithContext(ctx))
	}) {
		if err != nil {
			return Approval{}, "", fmt.Errorf("list merge requests of commit %s: %w", short(sha), err)
		}
		if mr.State == "merged" && mr.TargetBranch == g.cfg.Branch {
			merged = append(merged, mr)
		} else {
			other = append(other, mr)
		}
	}
	if len(merged) == 0 {
		why = fmt.Sprintf("commit %s is in no merged merge request into %s (pushed directly?)", short(sha), g.cfg.Branch)
		if len(other) > 0 {
			why = fmt.Sprintf("commit %s is only in !%d, which is %s into %s, not merged into %s",
				short(sha), other[0].IID, other[0].State, other[0].TargetBranch, g.cfg.Branch)
		}
		return Approval{}, why, nil
	}
	// Newest merge first.
	slices.SortFunc(merged, func(a, b *gitlab.BasicMergeRequest) int { return -cmp.Compare(mergedAt(a).Unix(), mergedAt(b).Unix()) })
	var reasons []string
	for _, mr := range merged {
		approvers, no, err := s.codeOwnerApproval(ctx, p, mr.IID)
		if err != nil {
			return Approval{}, "", err
		}
		if no == "" {
			url := cmp.Or(mr.WebURL, g.MRURL(mr.IID))
			return g.approved(sha, mr.IID, url, approvers, mergedAt(mr)), "", nil
		}
		reasons = append(reasons, no)
	}
	return Approval{}, strings.Join(reasons, "; "), nil
}

func mergedAt(mr *gitlab.BasicMergeRequest) time.Time {
	if mr.MergedAt != nil {
		return mr.MergedAt.UTC()
	}
	return time.Time{}
}

// codeOwnerApproval checks the approval state of MR iid: every code-owner
// rule whose pattern matches p is approved, and at least one code owner
// approved. It returns the code owners who approved, or why not.
func (s *session) codeOwnerApproval(ctx context.Context, p string, iid int64) (approvers []string, why string, err error) {
	g := s.g
	st, _, err := g.client.MergeRequestApprovals.GetApprovalState(g.cfg.Project, iid, gitlab.WithContext(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("read the approval state of !%d: %w", iid, err)
	}
	var rules, unmet []string
	seen := map[string]bool{}
	for _, r := range st.Rules {
		if r.RuleType != "code_owner" || !OwnsPath(r.Name, p) {
			continue
		}
		rules = append(rules, ruleName(r))
		if !r.Approved {
			unmet = append(unmet, ruleName(r))
		}
		for _, u := range r.ApprovedBy {
			if u != nil && u.Username != "" && !seen[u.Username] {
				seen[u.Username] = true
				approvers = append(approvers, u.Username)
			}
		}
	}
	slices.Sort(approvers)
	switch {
	case len(rules) == 0:
		return nil, fmt.Sprintf("!%d has no code-owner rule for %s (is CODEOWNERS in place, and code-owner approval required on %s?)",
			iid, p, g.cfg.Branch), nil
	case len(unmet) == 0 && len(approvers) > 0:
		return approvers, "", nil
	}
	// Who did approve, for the reason.
	ap, _, err := g.client.MergeRequestApprovals.GetConfiguration(g.cfg.Project, iid, gitlab.WithContext(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("read the approvals of !%d: %w", iid, err)
	}
	var by []string
	for _, u := range ap.ApprovedBy {
		if u != nil && u.User != nil {
			by = append(by, "@"+u.User.Username)
		}
	}
	who := "nobody approved it"
	if len(by) > 0 {
		who = "approved only by " + strings.Join(by, ", ") + ", not by a code owner of the path"
	}
	if len(unmet) == 0 { // rules satisfied without an approval (optional sections)
		unmet = rules
	}
	return nil, fmt.Sprintf("!%d: code-owner rule %s for %s not satisfied: %s", iid, strings.Join(unmet, ", "), p, who), nil
}

func ruleName(r *gitlab.MergeRequestApprovalRule) string {
	if r.Section != "" && r.Section != "codeowners" {
		return fmt.Sprintf("%s [%s]", r.Name, r.Section)
	}
	return r.Name
}

// OwnsPath reports whether the CODEOWNERS pattern matches the file at the
// slash path p (relative to the repository root), as GitLab matches it: a
// pattern starting with / is anchored at the root, any other matches at
// any depth; a pattern naming a directory (with or without a trailing /)
// owns every file under it; * matches within a path segment and ** across
// segments.
func OwnsPath(pattern, p string) bool {
	pat := strings.TrimSpace(pattern)
	if pat == "" {
		return false
	}
	if pat == "*" || pat == "/*" && !strings.Contains(p, "/") {
		return true
	}
	anchored := strings.HasPrefix(pat, "/")
	pat = strings.Trim(pat, "/")
	dirOnly := strings.HasSuffix(strings.TrimSpace(pattern), "/")
	want := strings.Split(pat, "/")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	starts := len(segs)
	if anchored {
		starts = 1
	}
	for s := range starts {
		for e := s + 1; e <= len(segs); e++ {
			if e == len(segs) && dirOnly {
				break
			}
			if matchSegments(want, segs[s:e]) {
				return true
			}
		}
	}
	return false
}

// matchSegments matches path segments against pattern segments, where
// "**" stands for any number of segments.
func matchSegments(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegments(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], segs[0])
	return err == nil && ok && matchSegments(pat[1:], segs[1:])
}

// unreachable reports whether err means GitLab could not be asked at all
// (no answer, 5xx, rate limit still in force after the retries, a refused
// token), rather than an answer about one file.
func unreachable(err error) bool {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		code := er.Response.StatusCode
		return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusUnauthorized
	}
	return true
}

// redactToken returns err with token replaced in its message.
func redactToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redacted{err: err, msg: strings.ReplaceAll(err.Error(), token, "[token]")}
}

type redacted struct {
	err error
	msg string
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// short is the first 12 characters of a commit SHA.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// RepoPrefix is the slash path of the directory dir within the git
// worktree holding it ("queries" for <root>/queries), for
// GitLabConfig.Prefix; ok is false when dir is not inside a git worktree.
func RepoPrefix(dir string) (prefix string, ok bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", false
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return "", false
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(wt.Filesystem.Root(), abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// UpsertNote makes body the text of this tool's note on merge request iid:
// it updates, in place, the first note whose body contains marker (a
// hidden HTML comment), or creates one. It returns the note's ID and
// whether it existed.
func (g *GitLab) UpsertNote(ctx context.Context, iid int64, marker, body string) (id int64, updated bool, err error) {
	if !strings.Contains(body, marker) {
		return 0, false, fmt.Errorf("note for !%d: body lacks its marker", iid)
	}
	opt := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: pageSize},
		OrderBy: gitlab.Ptr("created_at"), Sort: gitlab.Ptr("asc")}
	var found *gitlab.Note
	for n, err := range gitlab.Scan2(func(po gitlab.PaginationOptionFunc) ([]*gitlab.Note, *gitlab.Response, error) {
		return g.client.Notes.ListMergeRequestNotes(g.cfg.Project, iid, opt, po, gitlab.WithContext(ctx))
	}) {
		if err != nil {
			return 0, false, fmt.Errorf("list notes of !%d: %w", iid, redactToken(err, g.cfg.Token))
		}
		if !n.System && strings.Contains(n.Body, marker) {
			found = n
			break
		}
	}
	if found != nil {
		n, _, err := g.client.Notes.UpdateMergeRequestNote(g.cfg.Project, iid, found.ID,
			&gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
		if err != nil {
			return 0, false, fmt.Errorf("update note %d of !%d: %w", found.ID, iid, redactToken(err, g.cfg.Token))
		}
		return n.ID, true, nil
	}
	n, _, err := g.client.Notes.CreateMergeRequestNote(g.cfg.Project, iid,
		&gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
	if err != nil {
		return 0, false, fmt.Errorf("create a note on !%d: %w", iid, redactToken(err, g.cfg.Token))
	}
	return n.ID, false, nil
}
