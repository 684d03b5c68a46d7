package gitlabfake

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"
)

// emitFunc receives one row; it returns false to stop the generation.
type emitFunc func(row ...any) bool

// table is one generated table: its columns and a function producing its
// rows in id order.
type table struct {
	name    string
	columns []string
	rows    func(emit emitFunc)
}

// Tables returns the names of the tables Load creates, in load order.
func Tables() []string {
	g := &gen{}
	var names []string
	for _, t := range g.tables() {
		names = append(names, t.name)
	}
	return names
}

// Streams of per-entity generators used only when emitting rows.
const (
	streamIssueText = iota + 100
	streamMRText
	streamProject
	streamNoteText
)

// nullable helpers: the zero value becomes NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func dateOf(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(24 * time.Hour)
}

func uid(u *user) any {
	if u == nil {
		return nil
	}
	return u.id
}

func nz(x int64) any {
	if x == 0 {
		return nil
	}
	return x
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ip returns a sign-in address as GitLab stores it: the text of the
// address (users.*_sign_in_ip are character varying, not inet).
func ip(r *rand.Rand) string {
	var a netip.Addr
	switch r.IntN(3) {
	case 0:
		a = netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + r.IntN(254))})
	case 1:
		a = netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + r.IntN(254))})
	default:
		a = netip.AddrFrom4([4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
	}
	return a.String()
}

func (g *gen) tables() []table {
	return []table{
		{"users", []string{"id", "email", "encrypted_password", "reset_password_token", "reset_password_sent_at",
			"sign_in_count", "current_sign_in_at", "last_sign_in_at", "current_sign_in_ip", "last_sign_in_ip",
			"created_at", "updated_at", "name", "admin", "projects_limit", "username", "state",
			"confirmation_token", "confirmed_at", "confirmation_sent_at", "notification_email",
			"encrypted_otp_secret", "encrypted_otp_secret_iv", "encrypted_otp_secret_salt", "otp_required_for_login",
			"public_email", "external", "incoming_email_token", "last_activity_on", "preferred_language",
			"feed_token", "private_profile", "commit_email", "static_object_token", "user_type"}, g.userRows},
		{"banned_users", []string{"created_at", "updated_at", "user_id"}, g.bannedUserRows},
		{"namespaces", []string{"id", "name", "path", "owner_id", "created_at", "updated_at", "type", "description",
			"visibility_level", "parent_id", "traversal_ids", "request_access_enabled"}, g.namespaceRows},
		{"routes", []string{"id", "source_id", "source_type", "path", "created_at", "updated_at", "name", "namespace_id"}, g.routeRows},
		{"projects", []string{"id", "name", "path", "description", "created_at", "updated_at", "creator_id", "namespace_id",
			"last_activity_at", "visibility_level", "archived", "star_count", "pending_delete", "public_builds",
			"last_repository_updated_at", "marked_for_deletion_at", "project_namespace_id"}, g.projectRows},
		{"project_features", []string{"id", "project_id", "merge_requests_access_level", "issues_access_level",
			"wiki_access_level", "snippets_access_level", "builds_access_level", "created_at", "updated_at",
			"repository_access_level", "pages_access_level", "forking_access_level", "analytics_access_level",
			"operations_access_level", "security_and_compliance_access_level", "container_registry_access_level",
			"environments_access_level", "releases_access_level"}, g.projectFeatureRows},
		{"members", []string{"id", "access_level", "source_id", "source_type", "user_id", "notification_level", "type",
			"created_at", "updated_at", "created_by_id", "invite_email", "invite_token", "invite_accepted_at",
			"expires_at", "state", "member_namespace_id"}, g.memberRows},
		{"labels", []string{"id", "title", "color", "project_id", "group_id", "created_at", "updated_at", "description", "type"}, g.labelRows},
		{"milestones", []string{"id", "title", "project_id", "group_id", "description", "due_date", "start_date",
			"created_at", "updated_at", "state", "iid"}, g.milestoneRows},
		{"issues", []string{"id", "title", "author_id", "project_id", "created_at", "updated_at", "description",
			"milestone_id", "iid", "updated_by_id", "weight", "confidential", "due_date", "relative_position",
			"closed_at", "closed_by_id", "state_id", "upvotes_count", "work_item_type_id", "namespace_id"}, g.issueRows},
		{"issue_metrics", []string{"id", "issue_id", "first_mentioned_in_commit_at", "first_associated_with_milestone_at",
			"first_added_to_board_at", "created_at", "updated_at"}, g.issueMetricRows},
		{"merge_requests", []string{"id", "target_branch", "source_branch", "source_project_id", "author_id", "assignee_id",
			"title", "created_at", "updated_at", "milestone_id", "merge_status", "target_project_id", "iid", "description",
			"updated_by_id", "merge_when_pipeline_succeeds", "merge_user_id", "merge_commit_sha", "squash",
			"last_edited_at", "state_id", "draft", "head_pipeline_id"}, g.mergeRequestRows},
		{"merge_request_metrics", []string{"id", "merge_request_id", "latest_build_started_at", "latest_build_finished_at",
			"first_deployed_to_production_at", "merged_at", "created_at", "updated_at", "merged_by_id",
			"latest_closed_by_id", "latest_closed_at", "first_comment_at", "first_commit_at", "last_commit_at",
			"diff_size", "modified_paths_size", "commits_count", "first_approved_at", "first_reassigned_at",
			"added_lines", "removed_lines", "target_project_id", "first_contribution", "pipeline_id"}, g.mergeRequestMetricRows},
		{"merge_requests_closing_issues", []string{"id", "merge_request_id", "issue_id", "created_at", "updated_at",
			"closes_work_item", "from_mr_description"}, g.closingIssueRows},
		{"label_links", []string{"id", "label_id", "target_id", "target_type", "created_at", "updated_at"}, g.labelLinkRows},
		{"notes", []string{"id", "note", "noteable_type", "author_id", "created_at", "updated_at", "project_id",
			"line_code", "noteable_id", "system", "type", "resolved_at", "resolved_by_id", "discussion_id",
			"confidential", "internal", "namespace_id"}, g.noteRows},
		{"events", []string{"id", "project_id", "author_id", "created_at", "updated_at", "action", "target_type", "target_id"}, g.eventRows},
		{"ci_pipelines", []string{"id", "ref", "sha", "before_sha", "created_at", "updated_at", "tag", "committed_at",
			"project_id", "status", "started_at", "finished_at", "duration", "user_id", "source", "config_source",
			"protected", "iid", "merge_request_id", "locked", "partition_id"}, g.pipelineRows},
		{"ci_builds", []string{"id", "status", "finished_at", "created_at", "updated_at", "started_at", "commit_id", "name",
			"allow_failure", "stage", "stage_idx", "tag", "ref", "user_id", "type", "project_id", "when", "queued_at",
			"retried", "protected", "failure_reason", "token_encrypted", "scheduling_type", "partition_id"}, g.buildRows},
		{"environments", []string{"id", "project_id", "name", "created_at", "updated_at", "external_url", "state", "slug", "tier"}, g.environmentRows},
		{"deployments", []string{"id", "iid", "project_id", "environment_id", "ref", "tag", "sha", "user_id",
			"deployable_type", "created_at", "updated_at", "status", "finished_at"}, g.deploymentRows},
	}
}

func (g *gen) userRows(emit emitFunc) {
	const reason = "user secret"
	for _, u := range g.users {
		r := g.rngFor(streamUser, u.id)
		email := g.mark("users", "email", u.id, reason) + "@example.com"
		password := "$2a$10$" + g.mark("users", "encrypted_password", u.id, reason)
		var resetToken, resetSent any
		if r.Float64() < 0.05 {
			resetToken = g.mark("users", "reset_password_token", u.id, reason)
			resetSent = micro(g.now.Add(-hours(r.Float64() * 24 * 30)))
		}
		var signIns int
		var current, last time.Time
		var currentIP, lastIP any
		if !u.bot && u.state != "blocked_pending_approval" {
			signIns = 1 + int(r.ExpFloat64()*60)
			last = g.sampleTime(r, u.createdAt, g.now)
			current = g.sampleTime(r, last, g.now)
			currentIP, lastIP = ip(r), ip(r)
		}
		confirmed := micro(u.createdAt.Add(time.Duration(1+r.IntN(600)) * time.Second))
		var otp, otpIV, otpSalt any
		otpRequired := false
		if !u.bot && r.Float64() < 0.3 {
			otp = g.mark("users", "encrypted_otp_secret", u.id, reason)
			otpIV, otpSalt = sha(r, 24), "_"+sha(r, 22)
			otpRequired = true
		}
		var publicEmail any
		if !u.bot && r.Float64() < 0.15 {
			publicEmail = u.username + "@example.net" // public by design: shown on the profile
		}
		var commitEmail, staticToken any
		if r.Float64() < 0.2 {
			commitEmail = g.mark("users", "commit_email", u.id, reason) + "@example.com"
		}
		if r.Float64() < 0.1 {
			staticToken = g.mark("users", "static_object_token", u.id, reason)
		}
		lang := "en"
		if r.Float64() < 0.2 {
			lang = pick(r, []string{"de", "fr", "ja", "pt_BR", "zh_CN", "es"})
		}
		var lastActivity any
		if !current.IsZero() {
			lastActivity = dateOf(current)
		}
		if !emit(u.id, email, password, resetToken, resetSent,
			signIns, ts(current), ts(last), currentIP, lastIP,
			u.createdAt, maxTime(u.createdAt, current, u.bannedAt), u.name, u.admin, 100000, u.username, u.state,
			g.mark("users", "confirmation_token", u.id, reason), confirmed, confirmed, g.mark("users", "notification_email", u.id, reason)+"@example.com",
			otp, otpIV, otpSalt, otpRequired,
			publicEmail, u.external, g.mark("users", "incoming_email_token", u.id, reason), lastActivity, lang,
			g.mark("users", "feed_token", u.id, reason), r.Float64() < 0.05, commitEmail, staticToken, u.userType) {
			return
		}
	}
}

// bannedUserRows are GitLab's record of each ban (Users::BannedUser),
// kept beside users.state = 'banned'.
func (g *gen) bannedUserRows(emit emitFunc) {
	for _, u := range g.users {
		if u.state == "banned" && !emit(u.bannedAt, u.bannedAt, u.id) {
			return
		}
	}
}

func lastSegment(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

func (g *gen) namespaceRows(emit emitFunc) {
	for _, gr := range g.groups {
		var parent any
		if gr.parent != nil {
			parent = gr.parent.id
		}
		if !emit(gr.id, gr.name, lastSegment(gr.path), nil, gr.createdAt, gr.createdAt.AddDate(0, 3, 0), "Group", gr.desc,
			gr.vis, parent, gr.traversal, true) {
			return
		}
	}
	for _, u := range g.users {
		id := g.userNamespaceID(u)
		if !emit(id, u.name, u.username, u.id, u.createdAt, u.createdAt, "User", "",
			VisibilityPublic, nil, []int64{id}, true) {
			return
		}
	}
	for _, p := range g.projects {
		if !emit(p.projNSID, p.name, p.path, nil, p.createdAt, p.createdAt, "Project", p.desc,
			p.vis, p.nsID, p.traversal, true) {
			return
		}
	}
}

func (g *gen) routeRows(emit emitFunc) {
	id := int64(0)
	for _, gr := range g.groups {
		id++
		if !emit(id, gr.id, "Namespace", gr.path, gr.createdAt, gr.createdAt, gr.fullName, gr.id) {
			return
		}
	}
	for _, u := range g.users {
		id++
		ns := g.userNamespaceID(u)
		if !emit(id, ns, "Namespace", u.username, u.createdAt, u.createdAt, u.name, ns) {
			return
		}
	}
	for _, p := range g.projects {
		id++
		if !emit(id, p.id, "Project", p.fullPath, p.createdAt, p.createdAt, p.fullName, p.projNSID) {
			return
		}
	}
}

func (g *gen) projectRows(emit emitFunc) {
	for _, p := range g.projects {
		r := g.rngFor(streamProject, p.id)
		stars := 0
		if !p.hidden {
			stars = int(p.weight * 40 * (0.5 + r.Float64()))
		}
		last := maxTime(p.createdAt, p.lastActivity)
		var marked any
		if p.pendingDelete {
			marked = dateOf(p.activeUntil)
		}
		if !emit(p.id, p.name, p.path, p.desc, p.createdAt, last, p.creatorID, p.nsID,
			last, p.vis, p.archived, stars, p.pendingDelete, true,
			last, marked, p.projNSID) {
			return
		}
	}
}

func (g *gen) projectFeatureRows(emit emitFunc) {
	for _, p := range g.projects {
		if !emit(p.id, p.id, p.mrsAL, p.issuesAL, p.wikiAL, p.snippetsAL, p.buildsAL, p.createdAt, p.createdAt,
			p.repoAL, p.pagesAL, p.repoAL, FeatureEnabled, FeatureEnabled, FeaturePrivate, FeatureEnabled,
			FeatureEnabled, FeatureEnabled) {
			return
		}
	}
}

func (g *gen) memberRows(emit emitFunc) {
	for _, m := range g.members {
		r := g.rngFor(streamMember, m.id)
		var inviteEmail, inviteToken, expires any
		if m.user == nil {
			inviteEmail = m.inviteEmail
			inviteToken = g.mark("members", "invite_token", m.id, "pending invitation token")
		}
		if r.Float64() < 0.05 {
			expires = dateOf(g.now.AddDate(0, 0, 10+r.IntN(300)))
		}
		if !emit(m.id, m.access, m.sourceID, m.sourceType, uid(m.user), 3, m.memberType,
			m.createdAt, m.createdAt, int64(1), inviteEmail, inviteToken, nil,
			expires, 0, m.namespaceID) {
			return
		}
	}
}

func (g *gen) labelRows(emit emitFunc) {
	for _, l := range g.labels {
		typ := "GroupLabel"
		if l.projectID != 0 {
			typ = "ProjectLabel"
		}
		if !emit(l.id, l.title, l.color, nz(l.projectID), nz(l.groupID), l.createdAt, l.createdAt, l.desc, typ) {
			return
		}
	}
}

func (g *gen) milestoneRows(emit emitFunc) {
	for _, m := range g.miles {
		state := "active"
		if m.due.Before(g.now) {
			state = "closed"
		}
		if !emit(m.id, m.title, nz(m.projectID), nz(m.groupID), m.desc, dateOf(m.due), dateOf(m.start),
			m.createdAt, m.createdAt, state, m.iid) {
			return
		}
	}
}

// issueReason says why an issue is not public, "" if it is.
func issueReason(is *issue) string {
	switch {
	case is.p.hidden:
		return "issue of a project not visible to anonymous users"
	case is.p.issuesHidden:
		return "issue of a project whose issues are not public"
	case is.confidential:
		return "confidential issue"
	case is.author.state == "banned":
		return "issue of a banned user"
	}
	return ""
}

func mrReason(mr *mergeRequest) string {
	switch {
	case mr.p.hidden:
		return "merge request of a project not visible to anonymous users"
	case mr.p.mrsHidden:
		return "merge request of a project whose merge requests or repository are not public"
	case mr.author.state == "banned":
		return "merge request of a banned user"
	}
	return ""
}

func (is *issue) updatedAt() time.Time {
	return maxTime(is.createdAt, is.closedAt, is.editedAt, is.milestoneAt)
}

func (g *gen) issueRows(emit emitFunc) {
	for _, is := range g.issues {
		r := g.rngFor(streamIssueText, is.id)
		t, d := is.title, description(r)
		if reason := issueReason(is); reason != "" {
			t += " " + g.mark("issues", "title", is.id, reason)
			d += "\n" + g.mark("issues", "description", is.id, reason) + "\n"
		}
		state := 1
		if !is.closedAt.IsZero() {
			state = 2
		}
		var weight, milestone, updatedBy any
		if is.weight >= 0 {
			weight = is.weight
		}
		if is.milestone != nil {
			milestone = is.milestone.id
		}
		if !is.editedAt.IsZero() {
			updatedBy = is.author.id
		}
		if !emit(is.id, t, is.author.id, is.p.id, is.createdAt, is.updatedAt(), d,
			milestone, is.iid, updatedBy, weight, is.confidential, dateOf(is.dueDate), is.iid*513,
			ts(is.closedAt), uid(is.closedBy), state, is.upvotes, int64(1), is.p.projNSID) {
			return
		}
	}
}

func (g *gen) issueMetricRows(emit emitFunc) {
	for _, is := range g.issues {
		commit := is.commitAt
		if !commit.IsZero() && commit.Before(is.createdAt) {
			commit = is.createdAt.Add(time.Minute)
		}
		if !emit(is.id, is.id, ts(commit), ts(is.milestoneAt), ts(is.boardAt), is.createdAt,
			maxTime(is.updatedAt(), commit, is.boardAt)) {
			return
		}
	}
}

func (mr *mergeRequest) updatedAt() time.Time {
	return maxTime(mr.createdAt, mr.lastCommit, mr.firstComment, mr.firstApproved, mr.merged, mr.closed, mr.buildFinished, mr.prodDeployed)
}

func (mr *mergeRequest) headPipeline() any {
	if len(mr.pipelines) == 0 {
		return nil
	}
	return mr.pipelines[len(mr.pipelines)-1].id
}

func (g *gen) mergeRequestRows(emit emitFunc) {
	for _, mr := range g.mrs {
		r := g.rngFor(streamMRText, mr.id)
		t, d := mr.title, description(r)
		if len(mr.closes) > 0 {
			d += fmt.Sprintf("\nCloses #%d\n", mr.closes[0].iid)
		}
		if mr.draft {
			t = "Draft: " + t
		}
		if reason := mrReason(mr); reason != "" {
			t += " " + g.mark("merge_requests", "title", mr.id, reason)
			d += "\n" + g.mark("merge_requests", "description", mr.id, reason) + "\n"
		}
		var milestone any
		if mr.milestone != nil {
			milestone = mr.milestone.id
		}
		if !emit(mr.id, mr.p.defaultBranch, fmt.Sprintf("%d-%s", mr.iid, slug(mr.title)), mr.p.id, mr.author.id, mr.author.id,
			t, mr.createdAt, mr.updatedAt(), milestone, mr.mergeStatus, mr.p.id, mr.iid, d,
			nil, r.Float64() < 0.3 && mr.state == 3, uid(mr.mergedBy), str(mr.mergeSHA), r.Float64() < 0.4,
			nil, mr.state, mr.draft, mr.headPipeline()) {
			return
		}
	}
}

func (g *gen) mergeRequestMetricRows(emit emitFunc) {
	for _, mr := range g.mrs {
		files := 1 + mr.added/40
		if !emit(mr.id, mr.id, ts(mr.buildStarted), ts(mr.buildFinished),
			ts(mr.prodDeployed), ts(mr.merged), mr.createdAt, mr.updatedAt(), uid(mr.mergedBy),
			uid(mr.closedBy), ts(mr.closed), ts(mr.firstComment), mr.firstCommit, mr.lastCommit,
			files, files, mr.commits, ts(mr.firstApproved), ts(mr.reassigned),
			mr.added, mr.removed, mr.p.id, mr.firstContrib, mr.headPipeline()) {
			return
		}
	}
}

func (g *gen) closingIssueRows(emit emitFunc) {
	id := int64(0)
	for _, mr := range g.mrs {
		for _, is := range mr.closes {
			id++
			if !emit(id, mr.id, is.id, mr.createdAt, mr.createdAt, true, true) {
				return
			}
		}
	}
}

func (g *gen) labelLinkRows(emit emitFunc) {
	id := int64(0)
	for _, is := range g.issues {
		for _, l := range is.labels {
			id++
			if !emit(id, l.id, is.id, "Issue", is.createdAt, is.createdAt) {
				return
			}
		}
	}
	for _, mr := range g.mrs {
		for _, l := range mr.labels {
			id++
			if !emit(id, l.id, mr.id, "MergeRequest", mr.createdAt, mr.createdAt) {
				return
			}
		}
	}
}

// noteSpec is one planned note, before ids and text.
type noteSpec struct {
	at       time.Time
	author   *user
	system   string // text of a system note, "" for a comment
	comment  int    // index into comments
	internal bool
	diff     bool
}

func (g *gen) issueNotes(is *issue) []noteSpec {
	r := g.rngFor(streamIssueNotes, is.id)
	p := is.p
	end := is.closedAt
	if end.IsZero() {
		end = p.activeUntil
	}
	var ns []noteSpec
	for n := int(r.ExpFloat64() * 2.5); n > 0; n-- {
		at := is.createdAt.Add(time.Duration(r.Float64() * float64(end.Sub(is.createdAt))))
		at = micro(workday(r, at))
		if at.After(end) {
			at = end
		}
		ns = append(ns, noteSpec{at: at, author: g.pickAuthor(r, p, at, 0.3), comment: r.IntN(len(comments)),
			internal: r.Float64() < 0.08})
	}
	if p.group != nil && p.group.root().path == RootGroup && r.Float64() < 0.2 {
		ns = append(ns, noteSpec{at: micro(is.createdAt.Add(time.Duration(5+r.IntN(600)) * time.Second)),
			author: g.users[4], system: "", comment: -1})
	}
	if is.confidential {
		ns = append(ns, noteSpec{at: micro(is.createdAt.Add(time.Minute)), author: is.author, system: "made the issue confidential"})
	}
	if is.milestone != nil {
		ns = append(ns, noteSpec{at: is.milestoneAt, author: is.author, system: "changed milestone to %" + is.milestone.title})
	}
	for _, mr := range is.mentions {
		if !mr.createdAt.After(end) {
			ns = append(ns, noteSpec{at: mr.createdAt, author: mr.author, system: fmt.Sprintf("mentioned in merge request !%d", mr.iid)})
		}
	}
	if !is.closedAt.IsZero() {
		text := "closed"
		for _, mr := range is.mentions {
			if mr.merged.Equal(is.closedAt) {
				text = fmt.Sprintf("closed via merge request !%d", mr.iid)
			}
		}
		ns = append(ns, noteSpec{at: is.closedAt, author: is.closedBy, system: text})
	}
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].at.Before(ns[j].at) })
	return ns
}

func (g *gen) mrNotes(mr *mergeRequest) []noteSpec {
	r := g.rngFor(streamMRNotes, mr.id)
	p := mr.p
	end := maxTime(mr.merged, mr.closed)
	if end.IsZero() {
		end = p.activeUntil
	}
	var ns []noteSpec
	if !mr.firstComment.IsZero() {
		first := mr.reviewer
		if first == nil || first == mr.author {
			first = g.pickAuthor(r, p, mr.firstComment, 0)
		}
		ns = append(ns, noteSpec{at: mr.firstComment, author: first, comment: r.IntN(len(comments)), diff: r.Float64() < 0.4})
		for n := int(r.ExpFloat64() * 3); n > 0; n-- {
			at := mr.firstComment.Add(time.Duration(r.Float64() * float64(end.Sub(mr.firstComment))))
			author := mr.author
			if r.Float64() < 0.6 && mr.reviewer != nil {
				author = mr.reviewer
			}
			ns = append(ns, noteSpec{at: micro(at), author: author, comment: r.IntN(len(comments)), diff: r.Float64() < 0.3})
		}
	}
	if !mr.reviewerAssigned.IsZero() && mr.reviewer != nil {
		ns = append(ns, noteSpec{at: mr.reviewerAssigned, author: mr.author, system: "requested review from @" + mr.reviewer.username})
	}
	if mr.lastCommit.After(mr.createdAt) {
		ns = append(ns, noteSpec{at: mr.lastCommit, author: mr.author, system: fmt.Sprintf("added %d commits", max(1, mr.commits/2))})
	}
	if !mr.firstApproved.IsZero() {
		approver := mr.reviewer
		if approver == nil {
			approver = mr.mergedBy
		}
		ns = append(ns, noteSpec{at: mr.firstApproved, author: approver, system: "approved this merge request"})
	}
	if !mr.merged.IsZero() {
		ns = append(ns, noteSpec{at: mr.merged, author: mr.mergedBy, system: "merged"})
	}
	if !mr.closed.IsZero() {
		ns = append(ns, noteSpec{at: mr.closed, author: mr.closedBy, system: "closed"})
	}
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].at.Before(ns[j].at) })
	return ns
}

func (g *gen) noteRows(emit emitFunc) {
	id := int64(0)
	note := func(n noteSpec, noteableType string, noteableID int64, p *project, hiddenReason string) bool {
		id++
		r := g.rngFor(streamNoteText, id)
		var text string
		switch {
		case n.system != "":
			text = n.system
		case n.comment < 0:
			text = "Setting label(s) based on the title. /label ~\"triage::needed\""
		default:
			text = comments[n.comment]
		}
		reason := hiddenReason
		if n.internal {
			reason = "internal note"
		}
		if reason != "" {
			if hiddenReason != "" && !n.internal {
				reason = "note on a " + hiddenReason
			}
			text += "\n\n" + g.mark("notes", "note", id, reason)
		}
		var typ, lineCode, resolvedAt, resolvedBy any
		if n.diff {
			typ, lineCode = "DiffNote", fmt.Sprintf("%s_%d_%d", sha(r, 40), r.IntN(400), r.IntN(400))
			if r.Float64() < 0.7 {
				resolvedAt, resolvedBy = micro(n.at.Add(hours(r.ExpFloat64()*10))), uid(n.author)
			}
		} else if n.system == "" && noteableType == "MergeRequest" {
			typ = "DiscussionNote"
		}
		confidential := any(nil)
		if n.internal {
			confidential = true
		}
		return emit(id, text, noteableType, n.author.id, n.at, n.at, p.id,
			lineCode, noteableID, n.system != "", typ, resolvedAt, resolvedBy, sha(r, 40),
			confidential, n.internal, p.projNSID)
	}
	for _, is := range g.issues {
		for _, n := range g.issueNotes(is) {
			if !note(n, "Issue", is.id, is.p, issueReason(is)) {
				return
			}
		}
	}
	for _, mr := range g.mrs {
		for _, n := range g.mrNotes(mr) {
			if !note(n, "MergeRequest", mr.id, mr.p, mrReason(mr)) {
				return
			}
		}
	}
}

// GitLab event actions (events.action).
const (
	actionCreated   = 1
	actionUpdated   = 2
	actionClosed    = 3
	actionPushed    = 5
	actionCommented = 6
	actionMerged    = 7
	actionApproved  = 12
)

func (g *gen) eventRows(emit emitFunc) {
	id, noteID := int64(0), int64(0)
	ev := func(p *project, author *user, at time.Time, action int, targetType string, targetID int64) bool {
		id++
		var tt, tid any
		if targetType != "" {
			tt, tid = targetType, targetID
		}
		return emit(id, p.id, author.id, at, at, action, tt, tid)
	}
	for _, is := range g.issues {
		if !ev(is.p, is.author, is.createdAt, actionCreated, "Issue", is.id) {
			return
		}
		if !is.editedAt.IsZero() && !ev(is.p, is.author, is.editedAt, actionUpdated, "Issue", is.id) {
			return
		}
		for _, n := range g.issueNotes(is) {
			noteID++
			if n.system == "" && !ev(is.p, n.author, n.at, actionCommented, "Note", noteID) {
				return
			}
		}
		if !is.closedAt.IsZero() && !ev(is.p, is.closedBy, is.closedAt, actionClosed, "Issue", is.id) {
			return
		}
	}
	for _, mr := range g.mrs {
		if !ev(mr.p, mr.author, mr.firstCommit, actionPushed, "", 0) {
			return
		}
		if !ev(mr.p, mr.author, mr.createdAt, actionCreated, "MergeRequest", mr.id) {
			return
		}
		if mr.lastCommit.After(mr.createdAt) && !ev(mr.p, mr.author, mr.lastCommit, actionPushed, "", 0) {
			return
		}
		for _, n := range g.mrNotes(mr) {
			noteID++
			if n.system == "" && !ev(mr.p, n.author, n.at, actionCommented, "Note", noteID) {
				return
			}
			if n.system == "approved this merge request" && !ev(mr.p, n.author, n.at, actionApproved, "MergeRequest", mr.id) {
				return
			}
		}
		if !mr.merged.IsZero() && !ev(mr.p, mr.mergedBy, mr.merged, actionMerged, "MergeRequest", mr.id) {
			return
		}
		if !mr.closed.IsZero() && !ev(mr.p, mr.closedBy, mr.closed, actionClosed, "MergeRequest", mr.id) {
			return
		}
	}
}

// eachPipeline calls f for every pipeline in id order.
func (g *gen) eachPipeline(f func(ps pipelineSpec) bool) {
	for _, mr := range g.mrs {
		for _, ps := range mr.pipelines {
			if !f(ps) {
				return
			}
		}
		if mr.postMerge != nil && !f(*mr.postMerge) {
			return
		}
	}
	for _, ps := range g.scheduled {
		if !f(ps) {
			return
		}
	}
}

func (g *gen) pipelineRows(emit emitFunc) {
	g.eachPipeline(func(ps pipelineSpec) bool {
		run := g.runPipeline(ps)
		var mrID any
		if ps.mr != nil {
			mrID = ps.mr.id
		}
		return emit(ps.id, ps.ref, ps.sha, "0000000000000000000000000000000000000000", ps.createdAt, run.finished, false,
			ps.createdAt.Add(-time.Minute), ps.p.id, ps.status, run.started, run.finished, run.duration, uid(ps.user),
			ps.source, 1, ps.ref == ps.p.defaultBranch, ps.iid, mrID, 1, 100)
	})
}

func (g *gen) buildRows(emit emitFunc) {
	id := int64(0)
	g.eachPipeline(func(ps pipelineSpec) bool {
		run := g.runPipeline(ps)
		for _, b := range run.builds {
			id++
			var failure any
			if b.status == "failed" {
				failure = 1 // script_failure
			}
			updated := maxTime(ps.createdAt, b.finished)
			if !emit(id, b.status, ts(b.finished), ps.createdAt, updated, ts(b.started), ps.id, b.job.name,
				b.job.allowFailure, b.job.stage, b.job.stageIdx, false, ps.ref, uid(ps.user), "Ci::Build", ps.p.id,
				"on_success", b.queued, false, ps.ref == ps.p.defaultBranch, failure,
				g.mark("ci_builds", "token_encrypted", id, "CI job token"), 0, 100) {
				return false
			}
		}
		return true
	})
}

func (g *gen) environmentRows(emit emitFunc) {
	for _, e := range g.envs {
		url := fmt.Sprintf("https://%s.%s.example.com", e.name, e.p.path)
		if !emit(e.id, e.p.id, e.name, e.createdAt, e.createdAt, url, "available", e.name, e.tier) {
			return
		}
	}
}

func (g *gen) deploymentRows(emit emitFunc) {
	for _, mr := range g.mrs {
		for _, d := range mr.deploys {
			if !emit(d.id, d.iid, mr.p.id, d.env.id, mr.p.defaultBranch, false, d.sha, uid(d.user),
				"CommitStatus", d.createdAt, d.finished, d.status, d.finished) {
				return
			}
		}
	}
}
