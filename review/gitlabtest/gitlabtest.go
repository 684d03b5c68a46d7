// Package gitlabtest is a GitLab-shaped HTTP server for tests: it answers
// the REST endpoints that review (through gitlab.com/gitlab-org/api/client-go)
// calls, with JSON shaped as GitLab's API documentation shows and GitLab's
// offset pagination headers (X-Page, X-Per-Page, X-Next-Page, X-Total,
// X-Total-Pages and Link):
//
//	GET  /api/v4/projects/:id/repository/commits?ref_name=&path=
//	GET  /api/v4/projects/:id/repository/commits/:sha/merge_requests
//	GET  /api/v4/projects/:id/repository/files/:file_path?ref=
//	GET  /api/v4/projects/:id/merge_requests/:iid/approval_state
//	GET  /api/v4/projects/:id/merge_requests/:iid/approvals
//	GET  /api/v4/projects/:id/merge_requests/:iid/notes
//	POST /api/v4/projects/:id/merge_requests/:iid/notes
//	PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id
//
// A test builds the project's history with Commit and MergeRequest, then
// serves it over a real listener (Start) or in memory (HTTPClient, for
// testing/synctest, where the clock is fake). Every request must carry
// the PRIVATE-TOKEN header; RateLimit and SetDown inject failures.
package gitlabtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake GitLab holding one project with one branch.
type Server struct {
	// Token is the only token accepted (PRIVATE-TOKEN header).
	Token string
	// PageSize is the most items one page holds, whatever per_page asks
	// for, so that tests exercise pagination. Default 2.
	PageSize int

	project string // path, such as "analytics/queries"
	id      int64
	branch  string

	mu        sync.Mutex
	commits   []*commit // the branch, oldest first
	mrs       map[int64]*MergeRequest
	notes     map[int64][]*note
	nextNote  int64
	requests  []string
	limited   int
	limitWait time.Duration
	down      bool
	// Retries counts the requests answered with a 429, with the time each
	// next request came.
	limitedAt, retriedAt []time.Time
}

type commit struct {
	sha     string
	message string
	at      time.Time
	files   map[string]string // the whole tree after the commit
	changed []string
}

// MergeRequest is a merge request of the project.
type MergeRequest struct {
	IID int64
	// State is "merged", "opened", "closed" or "locked".
	State string
	// TargetBranch defaults to the project's branch.
	TargetBranch string
	// Commits are the SHAs the merge request contains.
	Commits  []string
	MergedAt time.Time
	// Rules are its approval rules as approval_state shows them.
	Rules []Rule
	// ApprovedBy are the usernames of everybody who approved it.
	ApprovedBy []string
}

// Rule is one approval rule of a merge request.
type Rule struct {
	// Name of a code-owner rule is its CODEOWNERS pattern ("/queries/").
	Name string
	// Type is "code_owner", "regular" or "any_approver". Default code_owner.
	Type string
	// Section is the CODEOWNERS section; default "codeowners".
	Section string
	// Required approvals; default 1.
	Required int
	// ApprovedBy are the eligible approvers who approved.
	ApprovedBy []string
}

// Note is a merge-request note as the server holds it.
type Note struct {
	ID        int64
	Body      string
	Author    string
	UpdatedAt time.Time
}

type note struct {
	Note
	created time.Time
}

// New returns a server for the project at path (ID 42) on branch.
func New(project, branch, token string) *Server {
	return &Server{Token: token, PageSize: 2, project: project, id: 42, branch: branch,
		mrs: map[int64]*MergeRequest{}, notes: map[int64][]*note{}, nextNote: 1000}
}

// Start serves s on a local listener until the test ends and returns its
// base URL.
func (s *Server) Start(t testing.TB) string {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// HTTPClient is a client that calls s in memory, without a listener: for
// tests in a testing/synctest bubble. Its base URL is http://gitlab.test.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: roundTripper{s}}
}

type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// Commit adds a commit to the branch that sets the files (path → content;
// an empty content deletes the file) and returns its SHA.
func (s *Server) Commit(message string, files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tree := map[string]string{}
	if n := len(s.commits); n > 0 {
		for k, v := range s.commits[n-1].files {
			tree[k] = v
		}
	}
	var changed []string
	for p, content := range files {
		changed = append(changed, p)
		if content == "" {
			delete(tree, p)
		} else {
			tree[p] = content
		}
	}
	slices.Sort(changed)
	h := sha1.Sum(fmt.Appendf(nil, "%d %s %v", len(s.commits), message, files))
	c := &commit{sha: hex.EncodeToString(h[:]), message: message, files: tree, changed: changed,
		at: time.Date(2025, 3, 1, 10, len(s.commits), 0, 0, time.UTC)}
	s.commits = append(s.commits, c)
	return c.sha
}

// MergeRequest adds or replaces a merge request.
func (s *Server) MergeRequest(mr MergeRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mr.TargetBranch == "" {
		mr.TargetBranch = s.branch
	}
	s.mrs[mr.IID] = &mr
}

// RateLimit answers the next n requests with 429 Too Many Requests and a
// Retry-After of wait (whole seconds).
func (s *Server) RateLimit(n int, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.limitWait = n, wait
}

// RateLimited returns when each 429 was sent and when the request after
// each came.
func (s *Server) RateLimited() (sent, next []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.limitedAt), slices.Clone(s.retriedAt)
}

// SetDown makes every request fail with 503 (down) or answer again.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Requests returns "METHOD /path?query" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests forgets the requests so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Notes returns the notes of merge request iid, oldest first.
func (s *Server) Notes(iid int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes[iid] {
		out = append(out, n.Note)
	}
	return out
}

// AddNote adds a note by author to merge request iid, as somebody else
// commenting would.
func (s *Server) AddNote(iid int64, author, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextNote++
	now := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	s.notes[iid] = append(s.notes[iid], &note{Note: Note{ID: s.nextNote, Body: body, Author: author, UpdatedAt: now}, created: now})
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.EscapedPath()+queryString(r.URL))
	if n := len(s.limitedAt); n > len(s.retriedAt) {
		s.retriedAt = append(s.retriedAt, time.Now())
	}
	if s.limited > 0 {
		s.limited--
		s.limitedAt = append(s.limitedAt, time.Now())
		w.Header().Set("Retry-After", strconv.Itoa(int(s.limitWait/time.Second)))
		w.Header().Set("RateLimit-Limit", "600")
		w.Header().Set("RateLimit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "429 Too Many Requests"})
		return
	}
	if s.down {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "503 Service Unavailable"})
		return
	}
	if r.Header.Get("PRIVATE-TOKEN") != s.Token || s.Token == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api/v4/projects/")
	if !ok {
		notFound(w, "404 Not Found")
		return
	}
	pid, rest, _ := strings.Cut(rest, "/")
	if p, err := url.PathUnescape(pid); err != nil || (p != s.project && p != strconv.FormatInt(s.id, 10)) {
		notFound(w, "404 Project Not Found")
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case r.Method == http.MethodGet && rest == "repository/commits":
		s.listCommits(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "repository" && parts[1] == "commits" && parts[3] == "merge_requests":
		s.commitMRs(w, r, parts[2])
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "repository" && parts[1] == "files":
		name, err := url.PathUnescape(parts[2])
		if err != nil {
			notFound(w, "404 File Not Found")
			return
		}
		s.file(w, r, name)
	case len(parts) >= 3 && parts[0] == "merge_requests":
		iid, err := strconv.ParseInt(parts[1], 10, 64)
		mr := s.mrs[iid]
		if err != nil || mr == nil {
			notFound(w, "404 Not found")
			return
		}
		switch {
		case r.Method == http.MethodGet && len(parts) == 3 && parts[2] == "approval_state":
			s.approvalState(w, mr)
		case r.Method == http.MethodGet && len(parts) == 3 && parts[2] == "approvals":
			s.approvals(w, mr)
		case len(parts) == 3 && parts[2] == "notes":
			s.notesEndpoint(w, r, mr)
		case r.Method == http.MethodPut && len(parts) == 4 && parts[2] == "notes":
			s.updateNote(w, r, mr, parts[3])
		default:
			notFound(w, "404 Not Found")
		}
	default:
		notFound(w, "404 Not Found")
	}
}

func queryString(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": msg})
}

// paginate writes the page of items r asks for with GitLab's headers.
func paginate[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) {
	q := r.URL.Query()
	per := s.PageSize
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 && n < per {
		per = n
	}
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	pages := max(1, (len(items)+per-1)/per)
	lo, hi := min((page-1)*per, len(items)), min(page*per, len(items))
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(len(items)))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Prev-Page", "")
	h.Set("X-Next-Page", "")
	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=\"%s\"", u.String(), rel)
	}
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, link(page-1, "prev"))
	}
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(1, "first"), link(pages, "last"))
	h.Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, items[lo:hi])
}

func user(name string) map[string]any {
	return map[string]any{"id": len(name)*1000 + int(name[0]), "username": name, "name": strings.ToUpper(name[:1]) + name[1:],
		"state": "active", "locked": false, "avatar_url": "https://secure.gravatar.com/avatar/" + name,
		"web_url": "https://gitlab.example.com/" + name}
}

func users(names []string) []map[string]any {
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, user(n))
	}
	return out
}

func (s *Server) commitJSON(c *commit, parent string) map[string]any {
	parents := []string{}
	if parent != "" {
		parents = append(parents, parent)
	}
	at := c.at.Format(time.RFC3339Nano)
	title, _, _ := strings.Cut(c.message, "\n")
	return map[string]any{"id": c.sha, "short_id": c.sha[:8], "created_at": at, "parent_ids": parents,
		"title": title, "message": c.message, "author_name": "Ada Author", "author_email": "ada@example.com",
		"authored_date": at, "committer_name": "Ada Author", "committer_email": "ada@example.com",
		"committed_date": at, "trailers": map[string]string{}, "extended_trailers": map[string]string{},
		"web_url": "https://gitlab.example.com/" + s.project + "/-/commit/" + c.sha}
}

func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if ref := q.Get("ref_name"); ref != "" && ref != s.branch {
		paginate(s, w, r, []map[string]any{})
		return
	}
	p := q.Get("path")
	out := []map[string]any{}
	for i := len(s.commits) - 1; i >= 0; i-- {
		c := s.commits[i]
		if p != "" && !slices.Contains(c.changed, p) {
			continue
		}
		parent := ""
		if i > 0 {
			parent = s.commits[i-1].sha
		}
		out = append(out, s.commitJSON(c, parent))
	}
	paginate(s, w, r, out)
}

func (s *Server) find(sha string) (*commit, int) {
	for i, c := range s.commits {
		if c.sha == sha {
			return c, i
		}
	}
	return nil, -1
}

func (s *Server) mrJSON(mr *MergeRequest) map[string]any {
	created := time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	var merged any
	if !mr.MergedAt.IsZero() {
		merged = mr.MergedAt.Format(time.RFC3339Nano)
	}
	sha := ""
	if len(mr.Commits) > 0 {
		sha = mr.Commits[len(mr.Commits)-1]
	}
	return map[string]any{"id": 100000 + mr.IID, "iid": mr.IID, "project_id": s.id,
		"title": fmt.Sprintf("Add queries (!%d)", mr.IID), "description": "", "state": mr.State,
		"created_at": created, "updated_at": created, "merged_at": merged, "closed_at": nil,
		"target_branch": mr.TargetBranch, "source_branch": fmt.Sprintf("feature-%d", mr.IID),
		"author": user("pm-paula"), "draft": false, "work_in_progress": false, "merge_when_pipeline_succeeds": false,
		"merge_status": "can_be_merged", "detailed_merge_status": "mergeable", "sha": sha,
		"merge_commit_sha": nil, "squash_commit_sha": nil, "squash": false,
		"references": map[string]string{"short": fmt.Sprintf("!%d", mr.IID), "relative": fmt.Sprintf("!%d", mr.IID),
			"full": fmt.Sprintf("%s!%d", s.project, mr.IID)},
		"web_url": fmt.Sprintf("https://gitlab.example.com/%s/-/merge_requests/%d", s.project, mr.IID)}
}

func (s *Server) commitMRs(w http.ResponseWriter, r *http.Request, sha string) {
	if c, _ := s.find(sha); c == nil {
		notFound(w, "404 Commit Not Found")
		return
	}
	out := []map[string]any{}
	iids := make([]int64, 0, len(s.mrs))
	for iid := range s.mrs {
		iids = append(iids, iid)
	}
	slices.Sort(iids)
	for _, iid := range iids {
		if mr := s.mrs[iid]; slices.Contains(mr.Commits, sha) {
			out = append(out, s.mrJSON(mr))
		}
	}
	paginate(s, w, r, out)
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, name string) {
	ref := r.URL.Query().Get("ref")
	c, i := s.find(ref)
	if c == nil && ref == s.branch && len(s.commits) > 0 {
		c, i = s.commits[len(s.commits)-1], len(s.commits)-1
	}
	if c == nil {
		notFound(w, "404 Commit Not Found")
		return
	}
	content, ok := c.files[name]
	if !ok {
		notFound(w, "404 File Not Found")
		return
	}
	last := c.sha
	for j := i; j >= 0; j-- {
		if slices.Contains(s.commits[j].changed, name) {
			last = s.commits[j].sha
			break
		}
	}
	sum := sha256.Sum256([]byte(content))
	blob := sha1.Sum(fmt.Appendf(nil, "blob %d\x00%s", len(content), content))
	base := name[strings.LastIndex(name, "/")+1:]
	writeJSON(w, http.StatusOK, map[string]any{"file_name": base, "file_path": name, "size": len(content),
		"encoding": "base64", "content_sha256": hex.EncodeToString(sum[:]), "ref": ref,
		"blob_id": hex.EncodeToString(blob[:]), "commit_id": c.sha, "last_commit_id": last,
		"execute_filemode": false, "content": base64.StdEncoding.EncodeToString([]byte(content))})
}

func (s *Server) approvalState(w http.ResponseWriter, mr *MergeRequest) {
	rules := []map[string]any{}
	for i, rl := range mr.Rules {
		typ := rl.Type
		if typ == "" {
			typ = "code_owner"
		}
		section := rl.Section
		if section == "" {
			section = "codeowners"
		}
		required := rl.Required
		if required == 0 {
			required = 1
		}
		rules = append(rules, map[string]any{"id": 500 + i, "name": rl.Name, "rule_type": typ, "section": section,
			"eligible_approvers": users(append(slices.Clone(rl.ApprovedBy), "owner-olga")), "approvals_required": required,
			"users": users([]string{"owner-olga"}), "groups": []any{}, "contains_hidden_groups": false,
			"approved_by": users(rl.ApprovedBy), "source_rule": nil, "approved": len(rl.ApprovedBy) >= required,
			"overridden": false})
	}
	writeJSON(w, http.StatusOK, map[string]any{"approval_rules_overwritten": false, "rules": rules})
}

func (s *Server) approvals(w http.ResponseWriter, mr *MergeRequest) {
	by := []map[string]any{}
	for _, n := range mr.ApprovedBy {
		by = append(by, map[string]any{"user": user(n)})
	}
	created := time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	left := 0
	for _, rl := range mr.Rules {
		if len(rl.ApprovedBy) < max(rl.Required, 1) {
			left++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": 100000 + mr.IID, "iid": mr.IID, "project_id": s.id,
		"title": fmt.Sprintf("Add queries (!%d)", mr.IID), "description": "", "state": mr.State,
		"created_at": created, "updated_at": created, "merge_status": "can_be_merged",
		"approved": left == 0, "approvals_required": len(mr.Rules), "approvals_left": left,
		"require_password_to_approve": false, "approved_by": by, "suggested_approvers": []any{},
		"approvers": []any{}, "approver_groups": []any{}, "user_has_approved": false, "user_can_approve": false,
		"approval_rules_left": []any{}, "has_approval_rules": len(mr.Rules) > 0,
		"merge_request_approvers_available": true, "multiple_approval_rules_available": true})
}

func (s *Server) noteJSON(mr *MergeRequest, n *note) map[string]any {
	return map[string]any{"id": n.ID, "type": nil, "body": n.Body, "attachment": nil, "author": user(n.Author),
		"created_at": n.created.Format(time.RFC3339Nano), "updated_at": n.UpdatedAt.Format(time.RFC3339Nano),
		"system": false, "noteable_id": 100000 + mr.IID, "noteable_type": "MergeRequest", "project_id": s.id,
		"noteable_iid": mr.IID, "resolvable": false, "confidential": false, "internal": false}
}

// noteBody reads the body parameter of a create or update, sent as JSON
// or as a form.
func noteBody(r *http.Request) (string, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	var v struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(data, &v) == nil && v.Body != "" {
		return v.Body, nil
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return "", err
	}
	return form.Get("body"), nil
}

// tokenUser is the user the token belongs to.
const tokenUser = "metricgate-bot"

func (s *Server) notesEndpoint(w http.ResponseWriter, r *http.Request, mr *MergeRequest) {
	switch r.Method {
	case http.MethodGet:
		out := []map[string]any{}
		for _, n := range s.notes[mr.IID] {
			out = append(out, s.noteJSON(mr, n))
		}
		paginate(s, w, r, out)
	case http.MethodPost:
		body, err := noteBody(r)
		if err != nil || body == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
			return
		}
		s.nextNote++
		now := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.nextNote) * time.Second)
		n := &note{Note: Note{ID: s.nextNote, Body: body, Author: tokenUser, UpdatedAt: now}, created: now}
		s.notes[mr.IID] = append(s.notes[mr.IID], n)
		writeJSON(w, http.StatusCreated, s.noteJSON(mr, n))
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "405 Method Not Allowed"})
	}
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request, mr *MergeRequest, id string) {
	nid, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		notFound(w, "404 Note Not Found")
		return
	}
	for _, n := range s.notes[mr.IID] {
		if n.ID != nid {
			continue
		}
		if n.Author != tokenUser {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
			return
		}
		body, err := noteBody(r)
		if err != nil || body == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
			return
		}
		n.Body = body
		n.UpdatedAt = n.UpdatedAt.Add(time.Hour)
		writeJSON(w, http.StatusOK, s.noteJSON(mr, n))
		return
	}
	notFound(w, "404 Note Not Found")
}
