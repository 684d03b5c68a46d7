package gitlabfake

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// GitLab visibility levels (namespaces.visibility_level,
// projects.visibility_level).
const (
	VisibilityPrivate  = 0
	VisibilityInternal = 10
	VisibilityPublic   = 20
)

// GitLab feature access levels (project_features.*_access_level).
const (
	FeatureDisabled = 0
	FeaturePrivate  = 10
	FeatureEnabled  = 20
	FeaturePublic   = 30
)

// groupSpec is one of the fixed groups. Parents come before children.
type groupSpec struct {
	path, name, desc string
	vis              int
	created          string
}

var groupSpecs = []groupSpec{
	{"gitlab-org", "GitLab.org", "Open source software to collaborate on code", VisibilityPublic, "2014-05-13"},
	{"gitlab-org/security", "security", "Security mirrors and fixes before disclosure", VisibilityPrivate, "2018-09-03"},
	{"gitlab-org/quality", "Quality", "Test tooling and triage automation", VisibilityInternal, "2017-06-20"},
	{"gitlab-org/frontend", "Frontend", "Frontend libraries", VisibilityPublic, "2017-11-02"},
	{"gitlab-org/frontend/design-system", "Design System", "Pajamas, GitLab's design system", VisibilityPublic, "2019-02-14"},
	{"gitlab-org/charts", "Charts", "Helm charts", VisibilityPublic, "2017-08-29"},
	{"gitlab-com", "GitLab.com", "Everything about running GitLab.com", VisibilityPublic, "2014-10-09"},
	{"gitlab-com/gl-infra", "GitLab Infrastructure Team", "Infrastructure of GitLab.com", VisibilityPublic, "2016-03-21"},
	{"acme-corp", "Acme Corp", "Acme's private workspace", VisibilityPrivate, "2020-01-15"},
	{"acme-corp/platform", "Platform", "Acme platform team", VisibilityPrivate, "2020-02-03"},
}

// projectSpec is one of the fixed projects. Zero access levels mean the
// default (FeatureEnabled); use disabled to switch a feature off.
type projectSpec struct {
	group, path, name, desc string
	vis                     int
	weight                  float64
	issues, mrs, repo       int
	builds, wiki, pages     int
	archived, pendingDelete bool
	deploys                 bool
	created                 string
}

const disabled = -1

var projectSpecs = []projectSpec{
	{group: "gitlab-org", path: "gitlab", name: "GitLab", desc: "GitLab is an open source end-to-end software development platform.", vis: VisibilityPublic, weight: 40, deploys: true, created: "2015-05-20"},
	{group: "gitlab-org", path: "gitlab-runner", name: "GitLab Runner", desc: "GitLab Runner runs CI/CD jobs.", vis: VisibilityPublic, weight: 10, deploys: true, created: "2015-03-26"},
	{group: "gitlab-org", path: "gitaly", name: "Gitaly", desc: "Git RPC service for GitLab.", vis: VisibilityPublic, weight: 8, mrs: FeaturePrivate, created: "2016-11-14"},
	{group: "gitlab-org", path: "omnibus-gitlab", name: "Omnibus GitLab", desc: "Build Omnibus packages of GitLab.", vis: VisibilityPublic, weight: 6, issues: FeaturePrivate, created: "2014-02-20"},
	{group: "gitlab-org", path: "gitlab-docs", name: "GitLab Docs", desc: "Sources of docs.gitlab.com.", vis: VisibilityPublic, weight: 3, issues: disabled, pages: FeaturePublic, created: "2016-09-12"},
	{group: "gitlab-org", path: "gitlab-foss", name: "GitLab FOSS", desc: "Read-only mirror of the former Community Edition.", vis: VisibilityPublic, weight: 3, archived: true, created: "2011-10-05"},
	{group: "gitlab-org", path: "old-prototype", name: "Old Prototype", desc: "A prototype scheduled for deletion.", vis: VisibilityPublic, weight: 1, pendingDelete: true, created: "2023-01-10"},
	{group: "gitlab-org", path: "release-tools", name: "Release Tools", desc: "Instructions and tooling for releasing GitLab.", vis: VisibilityPrivate, weight: 3, created: "2015-07-01"},
	{group: "gitlab-org", path: "internal-handbook", name: "Internal Handbook", desc: "Handbook pages for team members only.", vis: VisibilityInternal, weight: 2, created: "2019-04-01"},
	{group: "gitlab-org/security", path: "gitlab", name: "GitLab", desc: "Security mirror of GitLab where fixes are prepared before release.", vis: VisibilityPublic, weight: 4, created: "2018-09-03"},
	{group: "gitlab-org/security", path: "security-scanners", name: "Security Scanners", desc: "Internal scanners configuration.", vis: VisibilityPrivate, weight: 1, created: "2019-10-10"},
	{group: "gitlab-org/quality", path: "triage-ops", name: "Triage Ops", desc: "Triage policies for GitLab projects.", vis: VisibilityInternal, weight: 2, created: "2018-05-07"},
	{group: "gitlab-org/quality", path: "testbed", name: "Testbed", desc: "End-to-end test sandbox.", vis: VisibilityPublic, weight: 1, created: "2021-02-22"},
	{group: "gitlab-org/frontend", path: "gitlab-ui", name: "GitLab UI", desc: "Vue components for GitLab.", vis: VisibilityPublic, weight: 5, deploys: true, pages: FeaturePublic, created: "2018-03-14"},
	{group: "gitlab-org/frontend/design-system", path: "pajamas", name: "Pajamas", desc: "Design system documentation.", vis: VisibilityPublic, weight: 2, repo: FeaturePrivate, builds: FeaturePrivate, created: "2019-02-14"},
	{group: "gitlab-org/charts", path: "gitlab", name: "GitLab Chart", desc: "Cloud native GitLab Helm chart.", vis: VisibilityPublic, weight: 3, builds: disabled, created: "2017-08-29"},
	{group: "gitlab-org", path: "cli", name: "GitLab CLI", desc: "A command line tool for GitLab.", vis: VisibilityPublic, weight: 2, wiki: disabled, created: "2022-10-03"},
	{group: "gitlab-com", path: "www-gitlab-com", name: "www-gitlab-com", desc: "Sources of about.gitlab.com.", vis: VisibilityPublic, weight: 6, deploys: true, created: "2013-08-15"},
	{group: "gitlab-com/gl-infra", path: "reliability", name: "Reliability", desc: "Incidents, changes and corrective actions of GitLab.com.", vis: VisibilityPublic, weight: 3, created: "2017-02-01"},
	{group: "gitlab-com", path: "runbooks", name: "Runbooks", desc: "Runbooks for on-call engineers.", vis: VisibilityInternal, weight: 1, created: "2016-08-08"},
	{group: "gitlab-com", path: "infrastructure", name: "Infrastructure", desc: "Private infrastructure configuration.", vis: VisibilityPrivate, weight: 2, created: "2016-05-30"},
	{group: "acme-corp/platform", path: "api", name: "Acme API", desc: "Public API service of Acme.", vis: VisibilityPublic, weight: 3, deploys: true, created: "2020-02-10"},
	{group: "acme-corp", path: "website", name: "Acme Website", desc: "Marketing website of Acme.", vis: VisibilityPrivate, weight: 1, created: "2020-03-02"},
}

type user struct {
	id        int64
	username  string
	name      string
	userType  int16
	state     string
	admin     bool
	external  bool
	bot       bool
	createdAt time.Time
	bannedAt  time.Time // state banned: when (banned_users.created_at)
}

type group struct {
	id        int64
	parent    *group
	path      string // full path
	name      string // own name, canary included when hidden
	fullName  string
	desc      string
	vis       int
	createdAt time.Time
	traversal []int64
	hidden    bool // not visible to an anonymous visitor
	members   []*member
	labels    []*label
	miles     []*milestone
}

// root returns the top-level ancestor of g.
func (g *group) root() *group {
	for g.parent != nil {
		g = g.parent
	}
	return g
}

type project struct {
	id            int64
	nsID          int64 // namespace holding the project (group or user namespace)
	projNSID      int64 // the project's own namespace (type 'Project')
	group         *group
	owner         *user // personal projects
	path          string
	fullPath      string
	name          string
	fullName      string
	desc          string
	vis           int
	archived      bool
	pendingDelete bool
	deploys       bool
	createdAt     time.Time
	activeUntil   time.Time
	lastActivity  time.Time
	creatorID     int64
	weight        float64
	defaultBranch string
	traversal     []int64

	issuesAL, mrsAL, repoAL, buildsAL, wikiAL, snippetsAL, pagesAL int

	hidden       bool // the project itself is not visible anonymously
	issuesHidden bool // its issues are not
	mrsHidden    bool // its merge requests are not

	members     []*member // direct members
	pool        []*user   // possible authors
	maintainers []*user
	labels      []*label
	miles       []*milestone
	envs        []*environment
	jobs        []jobSpec

	issues  []*issue // by created_at
	nIssue  int
	nMR     int
	nPipe   int
	nDeploy int
}

type member struct {
	id          int64
	user        *user // nil for a pending invitation
	access      int
	sourceID    int64
	sourceType  string // Namespace or Project
	memberType  string // GroupMember or ProjectMember
	namespaceID int64
	createdAt   time.Time
	inviteEmail string
}

type label struct {
	id        int64
	title     string
	color     string
	desc      string
	groupID   int64
	projectID int64
	createdAt time.Time
	kind      string // type, priority, topic
}

type milestone struct {
	id        int64
	iid       int
	title     string
	desc      string
	groupID   int64
	projectID int64
	start     time.Time
	due       time.Time
	createdAt time.Time
	hidden    bool
}

type environment struct {
	id        int64
	p         *project
	name      string
	tier      int16
	createdAt time.Time
}

type issue struct {
	id           int64
	iid          int
	p            *project
	author       *user
	title        string
	createdAt    time.Time
	closedAt     time.Time
	closedBy     *user
	confidential bool
	hidden       bool
	milestone    *milestone
	milestoneAt  time.Time
	weight       int
	labels       []*label
	boardAt      time.Time
	commitAt     time.Time // first_mentioned_in_commit_at
	dueDate      time.Time
	mentions     []*mergeRequest
	editedAt     time.Time
	upvotes      int
}

type mergeRequest struct {
	id        int64
	iid       int
	p         *project
	author    *user
	title     string
	state     int16 // 1 opened, 2 closed, 3 merged
	hidden    bool
	draft     bool
	createdAt time.Time
	milestone *milestone
	labels    []*label
	closes    []*issue

	firstCommit, lastCommit, firstComment, firstApproved time.Time
	reviewerAssigned, reassigned, merged, closed         time.Time
	buildStarted, buildFinished, prodDeployed            time.Time

	mergedBy, closedBy, reviewer *user
	commits, added, removed      int
	mergeStatus                  string
	mergeSHA                     string

	pipelines    []pipelineSpec // MR pipelines, head last
	postMerge    *pipelineSpec  // pipeline of the merge commit on the default branch
	deploys      []deploySpec
	firstContrib bool
}

type pipelineSpec struct {
	id        int64
	iid       int
	p         *project
	mr        *mergeRequest
	ref       string
	sha       string
	source    int // 1 push, 4 schedule, 10 merge_request_event
	status    string
	user      *user
	createdAt time.Time
}

type deploySpec struct {
	id        int64
	iid       int
	env       *environment
	user      *user
	status    int16 // 2 success, 3 failed, 4 canceled
	createdAt time.Time
	finished  time.Time
	sha       string
}

// gen holds the planned world for one Options.
type gen struct {
	opts  Options
	now   time.Time
	start time.Time // start of the activity window
	r     *rand.Rand

	users      []*user
	humans     []*user
	groups     []*group
	groupByPth map[string]*group
	projects   []*project
	members    []*member
	labels     []*label
	miles      []*milestone
	envs       []*environment
	issues     []*issue
	mrs        []*mergeRequest
	scheduled  []pipelineSpec

	nextNamespaceID int64
	nextPipelineID  int64
	nextDeployID    int64

	canaries []Canary // recorded only when record is set
	record   bool
	nCanary  int
}

// Streams of the per-entity random generators.
const (
	streamUser = iota + 1
	streamIssueNotes
	streamMRNotes
	streamPipeline
	streamMember
)

// rngFor returns the generator of one entity: the data derived from it does
// not depend on the order in which tables are generated.
func (g *gen) rngFor(stream int, id int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(g.opts.Seed)^0x9e3779b97f4a7c15, uint64(stream)<<56^uint64(id)))
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// mark returns the canary marker for one value and records it.
func (g *gen) mark(table, column string, id int64, reason string) string {
	m := fmt.Sprintf("%s%s-%s-%08d", CanaryPrefix, table, column, id)
	g.nCanary++
	if g.record {
		g.canaries = append(g.canaries, Canary{Marker: m, Table: table, Column: column, ID: id, Reason: reason})
	}
	return m
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// sampleTime picks a time in [from, to) with weekly seasonality (quiet
// weekends), quiet nights (UTC) and activity growing over the window.
func (g *gen) sampleTime(r *rand.Rand, from, to time.Time) time.Time {
	if !to.After(from) {
		return micro(from)
	}
	span := to.Sub(from)
	window := g.now.Sub(g.start)
	var t time.Time
	for range 64 {
		t = from.Add(time.Duration(r.Int64N(int64(span))))
		w := 1.0
		switch t.Weekday() {
		case time.Saturday:
			w = 0.22
		case time.Sunday:
			w = 0.16
		}
		if h := t.Hour(); h < 6 || h >= 21 {
			w *= 0.3
		}
		w *= 0.55 + 0.45*float64(t.Sub(g.start))/float64(window)
		if r.Float64() < w {
			break
		}
	}
	return micro(t)
}

// workday moves most weekend times to the following Monday, same hour.
func workday(r *rand.Rand, t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		if r.Float64() < 0.8 {
			return t.AddDate(0, 0, 2)
		}
	case time.Sunday:
		if r.Float64() < 0.8 {
			return t.AddDate(0, 0, 1)
		}
	}
	return t
}

// after returns t plus an exponentially distributed delay of the given mean.
func after(r *rand.Rand, t time.Time, meanHours float64) time.Time {
	return micro(t.Add(hours(r.ExpFloat64() * meanHours)))
}

func newGen(opts Options, record bool) *gen {
	g := &gen{
		opts:       opts,
		now:        opts.Now,
		start:      opts.Now.AddDate(-2, 0, 0),
		r:          rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		groupByPth: map[string]*group{},
		record:     record,
	}
	g.planUsers()
	g.planGroups()
	g.planProjects()
	g.planMembers()
	g.planLabelsAndMilestones()
	g.planEnvironments()
	g.planIssues()
	g.planMergeRequests()
	g.planScheduledPipelines()
	g.planBans()
	for _, is := range g.issues {
		is.p.lastActivity = maxTime(is.p.lastActivity, is.updatedAt())
	}
	for _, mr := range g.mrs {
		mr.p.lastActivity = maxTime(mr.p.lastActivity, mr.updatedAt())
	}
	return g
}

func (g *gen) planUsers() {
	add := func(username, name string, userType int16, bot bool, created time.Time) *user {
		u := &user{id: int64(len(g.users) + 1), username: username, name: name, userType: userType,
			state: "active", bot: bot, createdAt: micro(created)}
		g.users = append(g.users, u)
		return u
	}
	root := add("root", "Administrator", 0, false, date("2014-01-15"))
	root.admin = true
	add("ghost", "Ghost User", 5, true, date("2016-02-01"))
	add("support-bot", "GitLab Support Bot", 1, true, date("2017-05-11"))
	add("alert-bot", "GitLab Alert Bot", 2, true, date("2019-08-22"))
	add("gitlab-bot", "🤖 GitLab Bot 🤖", 0, true, date("2017-01-09"))

	n := 200 * g.opts.Scale
	created := make([]time.Time, n)
	oldest := g.now.AddDate(-7, 0, 0)
	for i := range created {
		created[i] = micro(oldest.Add(time.Duration(g.r.Int64N(int64(g.now.AddDate(0, 0, -20).Sub(oldest))))))
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })
	used := map[string]bool{}
	for _, c := range created {
		first, last := pick(g.r, firstNames), pick(g.r, lastNames)
		username := strings.ToLower(first[:1] + last)
		if used[username] {
			username = fmt.Sprintf("%s%d", username, len(g.users)+1)
		}
		used[username] = true
		u := add(username, first+" "+last, 0, false, c)
		switch x := g.r.Float64(); {
		case x < 0.04:
			u.state = "blocked"
		case x < 0.07:
			u.state = "deactivated"
		case x < 0.08:
			u.state = "banned"
		case x < 0.09:
			u.state = "blocked_pending_approval"
		}
		u.external = g.r.Float64() < 0.05
		u.admin = g.r.Float64() < 0.01
		g.humans = append(g.humans, u)
	}
}

// bannedAuthors is how many banned users, per unit of scale, author
// issues and merge requests in gitlab-org's public projects (GitLab hides
// both from everyone but admins).
const bannedAuthors = 3

// planBans bans, besides the users drawn banned, the active humans with
// the fewest public issues and merge requests in gitlab-org until
// bannedAuthors of them author both there, and sets every banned user's
// ban time. It draws nothing from the generator, so the rest of the data
// is as without it.
func (g *gen) planBans() {
	type count struct{ issues, mrs int }
	counts := map[*user]*count{}
	at := func(u *user) *count {
		if counts[u] == nil {
			counts[u] = &count{}
		}
		return counts[u]
	}
	inOrg := func(p *project) bool { return p.group != nil && p.group.root().path == RootGroup }
	for _, is := range g.issues {
		if inOrg(is.p) && issueReason(is) == "" {
			at(is.author).issues++
		}
	}
	for _, mr := range g.mrs {
		if inOrg(mr.p) && mrReason(mr) == "" {
			at(mr.author).mrs++
		}
	}
	authors, candidates := 0, []*user{}
	for _, u := range g.humans {
		c := counts[u]
		if c == nil || c.issues == 0 || c.mrs == 0 {
			continue
		}
		if u.state == "banned" {
			authors++
		} else if u.state == "active" && !u.admin {
			candidates = append(candidates, u)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := counts[candidates[i]], counts[candidates[j]]
		return a.issues+a.mrs < b.issues+b.mrs
	})
	for _, u := range candidates {
		if authors >= bannedAuthors*g.opts.Scale {
			break
		}
		u.state = "banned"
		authors++
	}
	for _, u := range g.users {
		if u.state == "banned" {
			// A week to three months before Now, after the account was made.
			u.bannedAt = micro(maxTime(u.createdAt.Add(24*time.Hour), g.now.Add(-time.Duration(7+u.id%84)*24*time.Hour).Add(time.Duration(u.id%24)*time.Hour)))
		}
	}
}

// newNamespaceID hands out namespace ids in creation order.
func (g *gen) newNamespaceID() int64 {
	g.nextNamespaceID++
	return g.nextNamespaceID
}

func (g *gen) planGroups() {
	for _, s := range groupSpecs {
		gr := &group{id: g.newNamespaceID(), path: s.path, vis: s.vis, createdAt: date(s.created).Add(10 * time.Hour)}
		if i := strings.LastIndexByte(s.path, '/'); i >= 0 {
			gr.parent = g.groupByPth[s.path[:i]]
		}
		gr.hidden = s.vis < VisibilityPublic || (gr.parent != nil && gr.parent.hidden)
		gr.name, gr.desc = s.name, s.desc
		if gr.hidden {
			gr.name += " " + g.mark("namespaces", "name", gr.id, "group not visible to anonymous users")
			gr.desc += " " + g.mark("namespaces", "description", gr.id, "group not visible to anonymous users")
		}
		gr.fullName = gr.name
		if gr.parent != nil {
			gr.fullName = gr.parent.fullName + " / " + gr.name
			gr.traversal = append(append([]int64{}, gr.parent.traversal...), gr.id)
		} else {
			gr.traversal = []int64{gr.id}
		}
		g.groups = append(g.groups, gr)
		g.groupByPth[s.path] = gr
	}
	// User namespaces come after the groups, in user order.
	for range g.users {
		g.newNamespaceID()
	}
}

// userNamespaceID is the id of the personal namespace of u.
func (g *gen) userNamespaceID(u *user) int64 { return int64(len(g.groups)) + u.id }

func level(spec, def int) int {
	switch spec {
	case 0:
		return def
	case disabled:
		return FeatureDisabled
	}
	return spec
}

func (g *gen) addProject(p *project, s projectSpec) {
	p.id = int64(len(g.projects) + 1)
	p.projNSID = g.newNamespaceID()
	p.vis, p.archived, p.pendingDelete, p.deploys, p.weight = s.vis, s.archived, s.pendingDelete, s.deploys, s.weight
	p.issuesAL = level(s.issues, FeatureEnabled)
	p.mrsAL = level(s.mrs, FeatureEnabled)
	p.repoAL = level(s.repo, FeatureEnabled)
	p.buildsAL = level(s.builds, FeatureEnabled)
	p.wikiAL = level(s.wiki, FeatureEnabled)
	p.snippetsAL = FeatureEnabled
	p.pagesAL = level(s.pages, FeatureEnabled)
	if p.vis < VisibilityPublic {
		// GitLab stores private access for the features of non-public
		// projects' pages; the rest stays "enabled" (members only).
		p.pagesAL = FeaturePrivate
	}
	p.hidden = p.vis < VisibilityPublic || p.pendingDelete || (p.group != nil && p.group.hidden)
	p.issuesHidden = p.hidden || p.issuesAL < FeatureEnabled
	p.mrsHidden = p.hidden || p.mrsAL < FeatureEnabled || p.repoAL < FeatureEnabled
	p.name, p.desc = s.name, s.desc
	if p.hidden {
		p.name += " " + g.mark("projects", "name", p.id, "project not visible to anonymous users")
		p.desc += " " + g.mark("projects", "description", p.id, "project not visible to anonymous users")
	}
	p.path = s.path
	p.defaultBranch = "main"
	if p.createdAt.Before(date("2021-06-01")) {
		p.defaultBranch = "master"
	}
	p.activeUntil = g.now
	if p.archived {
		p.activeUntil = micro(g.now.AddDate(0, -9, 0))
	}
	if p.pendingDelete {
		p.activeUntil = micro(g.now.AddDate(0, 0, -3))
	}
	if p.group != nil {
		p.nsID = p.group.id
		p.fullPath = p.group.path + "/" + p.path
		p.fullName = p.group.fullName + " / " + p.name
		p.traversal = append(append([]int64{}, p.group.traversal...), p.projNSID)
	} else {
		p.nsID = g.userNamespaceID(p.owner)
		p.fullPath = p.owner.username + "/" + p.path
		p.fullName = p.owner.name + " / " + p.name
		p.traversal = []int64{p.nsID, p.projNSID}
	}
	p.jobs = jobsFor(p)
	g.projects = append(g.projects, p)
}

func (g *gen) planProjects() {
	for _, s := range projectSpecs {
		gr := g.groupByPth[s.group]
		// The fixed projects keep their share of the activity at every
		// scale.
		s.weight *= float64(g.opts.Scale)
		g.addProject(&project{group: gr, createdAt: date(s.created).Add(14 * time.Hour), creatorID: 1}, s)
	}
	// Community projects, two per unit of scale, mostly public.
	extraGroups := []string{"gitlab-org", "gitlab-org/frontend", "gitlab-com", "gitlab-org", "gitlab-org/charts", "gitlab-com/gl-infra"}
	for i := range 2 * g.opts.Scale {
		r := g.r
		s := projectSpec{group: extraGroups[i%len(extraGroups)], vis: VisibilityPublic, weight: 1}
		switch i % 7 {
		case 3:
			s.vis = VisibilityPrivate
		case 5:
			s.vis = VisibilityInternal
		}
		s.path = fmt.Sprintf("%s-%s-%d", pick(r, projectWords), pick(r, projectWords), i+1)
		s.name = s.path
		s.desc = pick(r, projectDescriptions)
		created := g.sampleTime(r, g.now.AddDate(-4, 0, 0), g.now.AddDate(0, -2, 0))
		g.addProject(&project{group: g.groupByPth[s.group], createdAt: created, creatorID: pick(r, g.humans).id}, s)
	}
	// Personal projects of about one user in six.
	for _, u := range g.humans {
		if g.r.Float64() >= 0.17 {
			continue
		}
		r := g.r
		s := projectSpec{vis: VisibilityPublic, weight: 0.3}
		switch x := r.Float64(); {
		case x < 0.25:
			s.vis = VisibilityPrivate
		case x < 0.37:
			s.vis = VisibilityInternal
		}
		if r.Float64() < 0.15 {
			s.issues = FeaturePrivate
		}
		s.path = pick(r, projectWords) + "-" + pick(r, projectWords)
		s.name = s.path
		s.desc = pick(r, projectDescriptions)
		from := u.createdAt
		if from.Before(g.start) {
			from = g.start
		}
		created := g.sampleTime(r, from, g.now.AddDate(0, 0, -10))
		g.addProject(&project{owner: u, createdAt: created, creatorID: u.id}, s)
	}
}

var accessLevels = []int{10, 20, 30, 30, 30, 40, 40, 50}

func (g *gen) newMember(u *user, access int, sourceID int64, sourceType string, nsID int64, created time.Time) *member {
	m := &member{id: int64(len(g.members) + 1), user: u, access: access, sourceID: sourceID,
		sourceType: sourceType, namespaceID: nsID, createdAt: micro(created)}
	m.memberType = "GroupMember"
	if sourceType == "Project" {
		m.memberType = "ProjectMember"
	}
	g.members = append(g.members, m)
	return m
}

func (g *gen) planMembers() {
	share := map[string]float64{
		"gitlab-org": 0.30, "gitlab-org/security": 0.03, "gitlab-org/quality": 0.05,
		"gitlab-org/frontend": 0.04, "gitlab-com": 0.12, "gitlab-com/gl-infra": 0.04,
		"acme-corp": 0.04, "acme-corp/platform": 0.03,
	}
	root := g.users[0]
	for _, gr := range g.groups {
		if gr.parent == nil {
			gr.members = append(gr.members, g.newMember(root, 50, gr.id, "Namespace", gr.id, gr.createdAt))
		}
		for _, u := range g.humans {
			if g.r.Float64() >= share[gr.path] {
				continue
			}
			from := u.createdAt
			if gr.createdAt.After(from) {
				from = gr.createdAt
			}
			created := g.sampleTime(g.r, from, g.now)
			gr.members = append(gr.members, g.newMember(u, pick(g.r, accessLevels), gr.id, "Namespace", gr.id, created))
		}
		if gr.parent == nil {
			// Pending invitations: no user yet, an email and a token.
			for range 1 + g.opts.Scale/4 {
				m := g.newMember(nil, 30, gr.id, "Namespace", gr.id, g.sampleTime(g.r, g.now.AddDate(0, -2, 0), g.now))
				m.inviteEmail = g.mark("members", "invite_email", m.id, "pending invitation email") + "@example.com"
				gr.members = append(gr.members, m)
			}
		}
	}
	for _, p := range g.projects {
		if p.owner != nil {
			p.members = append(p.members, g.newMember(p.owner, 50, p.id, "Project", p.projNSID, p.createdAt))
		}
		for range g.r.IntN(4) {
			u := pick(g.r, g.humans)
			from := u.createdAt
			if p.createdAt.After(from) {
				from = p.createdAt
			}
			p.members = append(p.members, g.newMember(u, pick(g.r, accessLevels[:6]), p.id, "Project", p.projNSID, g.sampleTime(g.r, from, g.now)))
		}
		seen := map[int64]bool{}
		addPool := func(ms []*member) {
			for _, m := range ms {
				if m.user == nil || m.access < 20 || seen[m.user.id] {
					continue
				}
				seen[m.user.id] = true
				p.pool = append(p.pool, m.user)
				if m.access >= 40 {
					p.maintainers = append(p.maintainers, m.user)
				}
			}
		}
		addPool(p.members)
		for gr := p.group; gr != nil; gr = gr.parent {
			addPool(gr.members)
		}
		if len(p.maintainers) == 0 {
			p.maintainers = []*user{root}
		}
		if len(p.pool) == 0 {
			p.pool = []*user{root}
		}
	}
}

var labelColors = map[string]string{
	"type::bug": "#dc143c", "type::feature": "#009966", "type::maintenance": "#330066",
	"priority::1": "#cc0000", "priority::2": "#ed9121", "priority::3": "#f0ad4e", "priority::4": "#5cb85c",
}

var typeLabels = []string{"type::bug", "type::feature", "type::maintenance"}
var priorityLabels = []string{"priority::1", "priority::2", "priority::3", "priority::4"}
var topicLabels = []string{"documentation", "frontend", "backend", "database", "security", "UX", "Community contribution", "performance"}

func (g *gen) newLabel(title string, groupID, projectID int64, created time.Time, hidden bool) *label {
	l := &label{id: int64(len(g.labels) + 1), title: title, groupID: groupID, projectID: projectID, createdAt: micro(created)}
	l.color = labelColors[title]
	if l.color == "" {
		l.color = "#428bca"
	}
	switch {
	case strings.HasPrefix(title, "type::"):
		l.kind = "type"
	case strings.HasPrefix(title, "priority::"):
		l.kind = "priority"
	default:
		l.kind = "topic"
	}
	l.desc = "Issues and merge requests about " + strings.TrimPrefix(strings.TrimPrefix(title, "type::"), "priority::")
	if hidden {
		l.desc += " " + g.mark("labels", "description", l.id, "label of a group or project not visible to anonymous users")
	}
	g.labels = append(g.labels, l)
	return l
}

func (g *gen) newMilestone(title string, groupID, projectID int64, iid int, start, due time.Time, hidden bool) *milestone {
	m := &milestone{id: int64(len(g.miles) + 1), iid: iid, title: title, groupID: groupID, projectID: projectID,
		start: start, due: due, createdAt: micro(start.AddDate(0, 0, -20).Add(9 * time.Hour)), hidden: hidden}
	m.desc = "Planning for " + title
	if hidden {
		m.title += " " + g.mark("milestones", "title", m.id, "milestone of a group or project not visible to anonymous users")
		m.desc += " " + g.mark("milestones", "description", m.id, "milestone of a group or project not visible to anonymous users")
	}
	g.miles = append(g.miles, m)
	return m
}

func (g *gen) planLabelsAndMilestones() {
	// Group labels on the top-level groups.
	for _, gr := range g.groups {
		if gr.parent != nil {
			continue
		}
		titles := append(append(append([]string{}, typeLabels...), priorityLabels...), topicLabels...)
		for _, t := range titles {
			gr.labels = append(gr.labels, g.newLabel(t, gr.id, 0, gr.createdAt.AddDate(0, 1, 0), gr.hidden))
		}
	}
	// Monthly release milestones on gitlab-org, 17.0 two years and two
	// months before Now, three months into the future.
	org := g.groupByPth[RootGroup]
	first := time.Date(g.now.Year(), g.now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(-2, -2, 0)
	for i := 0; ; i++ {
		start := first.AddDate(0, i, 0)
		if start.After(g.now.AddDate(0, 3, 0)) {
			break
		}
		due := start.AddDate(0, 0, 16)
		title := fmt.Sprintf("%d.%d", 17+i/12, i%12)
		org.miles = append(org.miles, g.newMilestone(title, org.id, 0, i+1, start.AddDate(0, -1, 17), due, false))
	}
	// Two-week sprints on acme-corp/platform.
	acme := g.groupByPth["acme-corp/platform"]
	sprint0 := first
	for i := 0; ; i++ {
		start := sprint0.AddDate(0, 0, 14*i)
		if start.After(g.now.AddDate(0, 1, 0)) {
			break
		}
		acme.miles = append(acme.miles, g.newMilestone(fmt.Sprintf("Sprint %d", i+1), acme.id, 0, i+1, start, start.AddDate(0, 0, 13), true))
	}
	for _, p := range g.projects {
		if p.group != nil {
			p.labels = append(p.labels, p.group.root().labels...)
			for gr := p.group; gr != nil; gr = gr.parent {
				p.miles = append(p.miles, gr.miles...)
			}
			continue
		}
		// Personal projects: a few project labels and one milestone.
		for _, t := range []string{"bug", "enhancement", "question"} {
			p.labels = append(p.labels, g.newLabel(t, 0, p.id, p.createdAt, p.hidden))
		}
		due := p.createdAt.AddDate(0, 6, 0)
		p.miles = append(p.miles, g.newMilestone("v1.0", 0, p.id, 1, p.createdAt, due, p.hidden))
	}
}

func (g *gen) planEnvironments() {
	for _, p := range g.projects {
		if !p.deploys {
			continue
		}
		for _, e := range []struct {
			name string
			tier int16
		}{{"production", 0}, {"staging", 1}} {
			env := &environment{id: int64(len(g.envs) + 1), p: p, name: e.name, tier: e.tier, createdAt: micro(p.createdAt.AddDate(0, 2, 0))}
			g.envs = append(g.envs, env)
			p.envs = append(p.envs, env)
		}
	}
}

// pickProject picks a project by activity weight.
func pickProject(r *rand.Rand, ps []*project, cum []float64) *project {
	x := r.Float64() * cum[len(cum)-1]
	return ps[sort.SearchFloat64s(cum, x)]
}

// pickAuthor picks a user who existed at t: mostly from the project's
// members, sometimes (public projects) anyone.
func (g *gen) pickAuthor(r *rand.Rand, p *project, t time.Time, community float64) *user {
	for range 8 {
		var u *user
		if !p.hidden && r.Float64() < community {
			u = pick(r, g.humans)
		} else {
			u = pick(r, p.pool)
		}
		if u.createdAt.Before(t) {
			return u
		}
	}
	return g.users[0]
}

func (g *gen) activityWindow(p *project) (time.Time, time.Time) {
	from := p.createdAt.AddDate(0, 0, 1)
	if from.Before(g.start) {
		from = g.start
	}
	return from, p.activeUntil
}

func (g *gen) weights() []float64 {
	cum := make([]float64, len(g.projects))
	total := 0.0
	for i, p := range g.projects {
		total += p.weight
		cum[i] = total
	}
	return cum
}

// pickLabels picks a type label most of the time, sometimes a priority and
// a topic.
func pickLabels(r *rand.Rand, p *project) []*label {
	var out []*label
	byKind := func(kind string) []*label {
		var ls []*label
		for _, l := range p.labels {
			if l.kind == kind {
				ls = append(ls, l)
			}
		}
		return ls
	}
	if ts := byKind("type"); len(ts) == 3 && r.Float64() < 0.85 {
		x := r.Float64()
		switch {
		case x < 0.45:
			out = append(out, ts[0])
		case x < 0.8:
			out = append(out, ts[1])
		default:
			out = append(out, ts[2])
		}
	}
	if ps := byKind("priority"); len(ps) == 4 && r.Float64() < 0.4 {
		w := []float64{0.1, 0.4, 0.8, 1}
		x := r.Float64()
		for i, c := range w {
			if x < c {
				out = append(out, ps[i])
				break
			}
		}
	}
	if ts := byKind("topic"); len(ts) > 0 && r.Float64() < 0.5 {
		out = append(out, pick(r, ts))
	}
	return out
}

// milestoneAt returns the milestone of p whose period contains t, or one of
// the next two.
func milestoneAt(r *rand.Rand, p *project, t time.Time) *milestone {
	var ms []*milestone
	for _, m := range p.miles {
		if !m.due.Before(t) {
			ms = append(ms, m)
			if len(ms) == 3 {
				break
			}
		}
	}
	if len(ms) == 0 {
		return nil
	}
	return ms[min(len(ms)-1, int(r.ExpFloat64()*0.7))]
}

// draft is a project and a creation time, before the item is built.
type draft struct {
	p *project
	t time.Time
}

// drafts picks n projects by activity weight and a time in each one's
// activity window, sorted by time.
func (g *gen) drafts(n int) []draft {
	cum := g.weights()
	drafts := make([]draft, 0, n)
	for range n {
		p := pickProject(g.r, g.projects, cum)
		from, to := g.activityWindow(p)
		drafts = append(drafts, draft{p, g.sampleTime(g.r, from, to)})
	}
	sort.SliceStable(drafts, func(i, j int) bool { return drafts[i].t.Before(drafts[j].t) })
	return drafts
}

func (g *gen) planIssues() {
	n := 3000 * g.opts.Scale
	drafts := g.drafts(n)
	g.issues = make([]*issue, 0, n)
	for i, d := range drafts {
		r := g.r
		p := d.p
		p.nIssue++
		is := &issue{id: int64(i + 1), iid: p.nIssue, p: p, createdAt: d.t, weight: -1}
		is.author = g.pickAuthor(r, p, d.t, 0.3)
		is.title = title(r)
		is.confidential = r.Float64() < 0.06
		is.hidden = p.issuesHidden || is.confidential
		if r.Float64() < 0.3 {
			is.weight = r.IntN(8) + 1
		}
		is.labels = pickLabels(r, p)
		if len(p.miles) > 0 && r.Float64() < 0.6 {
			if m := milestoneAt(r, p, d.t); m != nil {
				is.milestone = m
				is.milestoneAt = after(r, d.t, 30)
				if is.milestoneAt.After(g.now) {
					is.milestoneAt = g.now
				}
			}
		}
		if r.Float64() < 0.35 {
			is.boardAt = after(r, d.t, 48)
		}
		if r.Float64() < 0.2 {
			is.dueDate = d.t.AddDate(0, 0, 7+r.IntN(60))
		}
		// Most issues close; long-lived ones stay open.
		if r.Float64() < 0.72 {
			closed := workday(r, after(r, d.t, 24*21))
			if closed.Before(p.activeUntil) && closed.Before(g.now) {
				is.closedAt = closed
				is.closedBy = g.pickAuthor(r, p, closed, 0)
			}
		}
		if r.Float64() < 0.15 {
			is.editedAt = after(r, d.t, 20)
			if is.editedAt.After(p.activeUntil) {
				is.editedAt = time.Time{}
			}
		}
		is.upvotes = int(r.ExpFloat64() * 2)
		g.issues = append(g.issues, is)
		p.issues = append(p.issues, is)
	}
	for _, is := range g.issues {
		if is.boardAt.After(g.now) {
			is.boardAt = time.Time{}
		}
	}
}

func (g *gen) newPipeline(p *project, mr *mergeRequest, ref string, source int, status string, u *user, created time.Time) pipelineSpec {
	g.nextPipelineID++
	p.nPipe++
	return pipelineSpec{id: g.nextPipelineID, iid: p.nPipe, p: p, mr: mr, ref: ref, sha: sha(g.r, 40),
		source: source, status: status, user: u, createdAt: micro(created)}
}

func (g *gen) planMergeRequests() {
	n := 3000 * g.opts.Scale
	drafts := g.drafts(n)
	g.mrs = make([]*mergeRequest, 0, n)
	linked := map[*issue]bool{}
	authored := map[int64]bool{}
	for i, d := range drafts {
		r := g.r
		p := d.p
		p.nMR++
		mr := &mergeRequest{id: int64(i + 1), iid: p.nMR, p: p, createdAt: d.t, state: 1, hidden: p.mrsHidden}
		mr.author = g.pickAuthor(r, p, d.t, 0.2)
		mr.firstContrib = !authored[mr.author.id]
		authored[mr.author.id] = true
		mr.title = title(r)
		mr.labels = pickLabels(r, p)
		if len(p.miles) > 0 && r.Float64() < 0.5 {
			mr.milestone = milestoneAt(r, p, d.t)
		}
		mr.commits = 1 + int(r.ExpFloat64()*3)
		mr.added = 1 + int(r.ExpFloat64()*180)
		mr.removed = int(r.ExpFloat64() * 70)
		mr.firstCommit = micro(d.t.Add(-hours(0.2 + r.ExpFloat64()*20)))
		end := p.activeUntil

		// Issue it closes, from the same project, opened in the 60 days
		// before the merge request.
		if p.issuesAL > FeatureDisabled && r.Float64() < 0.4 {
			lo := sort.Search(len(p.issues), func(k int) bool { return !p.issues[k].createdAt.Before(d.t.AddDate(0, 0, -60)) })
			hi := sort.Search(len(p.issues), func(k int) bool { return !p.issues[k].createdAt.Before(d.t) })
			for try := 0; try < 3 && hi > lo; try++ {
				is := p.issues[lo+r.IntN(hi-lo)]
				if !linked[is] {
					linked[is] = true
					mr.closes = append(mr.closes, is)
					is.mentions = append(is.mentions, mr)
					if is.commitAt.IsZero() || mr.firstCommit.Before(is.commitAt) {
						is.commitAt = mr.firstCommit
					}
					break
				}
			}
		}

		if r.Float64() < 0.9 {
			mr.firstComment = after(r, d.t, 8)
		}
		if r.Float64() < 0.8 {
			mr.reviewerAssigned = after(r, d.t, 3)
			mr.reviewer = g.pickAuthor(r, p, d.t, 0)
		}
		if r.Float64() < 0.15 {
			mr.reassigned = after(r, d.t, 40)
		}
		// Commits keep coming during review.
		lastCommit := d.t.Add(-hours(r.Float64() * 0.5))
		if !mr.firstComment.IsZero() && r.Float64() < 0.6 {
			lastCommit = after(r, mr.firstComment, 10)
		}
		if lastCommit.Before(mr.firstCommit) {
			lastCommit = mr.firstCommit
		}
		mr.lastCommit = micro(lastCommit)

		outcome := r.Float64()
		switch {
		case outcome < 0.74:
			mr.state = 3
		case outcome < 0.87:
			mr.state = 2
		}
		if mr.state == 3 && !mr.firstComment.IsZero() {
			mr.firstApproved = workday(r, after(r, maxTime(mr.firstComment, mr.lastCommit), 16))
		}

		// Pipelines: a few on the MR, the head one after the last commit.
		if p.buildsAL > FeatureDisabled && p.repoAL > FeatureDisabled {
			np := 1 + int(r.ExpFloat64()*1.2)
			for k := range np {
				created := mr.lastCommit.Add(30 * time.Second)
				status := "success"
				if k < np-1 {
					span := mr.lastCommit.Sub(mr.firstCommit)
					created = mr.firstCommit.Add(time.Duration(float64(span) * float64(k+1) / float64(np+1))).Add(20 * time.Second)
					switch x := r.Float64(); {
					case x < 0.35:
						status = "failed"
					case x < 0.45:
						status = "canceled"
					}
				} else if mr.state != 3 {
					switch x := r.Float64(); {
					case x < 0.25:
						status = "failed"
					case x < 0.3:
						status = "canceled"
					}
				}
				if created.After(end) {
					break
				}
				mr.pipelines = append(mr.pipelines, g.newPipeline(p, mr, fmt.Sprintf("refs/merge-requests/%d/head", mr.iid), 10, status, mr.author, created))
			}
			if len(mr.pipelines) > 0 {
				head := g.runPipeline(mr.pipelines[len(mr.pipelines)-1])
				mr.buildStarted, mr.buildFinished = head.started, head.finished
			}
		}

		switch mr.state {
		case 3:
			merged := maxTime(d.t, mr.lastCommit, mr.firstApproved, mr.buildFinished)
			merged = workday(r, after(r, merged, 6)).Add(time.Minute)
			mr.merged = micro(merged)
			mr.mergedBy = pick(r, p.maintainers)
			if mr.mergedBy.createdAt.After(mr.merged) {
				mr.mergedBy = g.users[0]
			}
			mr.mergeSHA = sha(r, 40)
		case 2:
			mr.closed = micro(workday(r, after(r, maxTime(d.t, mr.lastCommit, mr.firstComment), 24*12)))
			mr.closedBy = mr.author
			if r.Float64() < 0.4 {
				mr.closedBy = pick(r, p.maintainers)
			}
		}
		if mr.merged.After(end) || mr.closed.After(end) {
			mr.state, mr.merged, mr.closed, mr.mergedBy, mr.closedBy, mr.firstApproved = 1, time.Time{}, time.Time{}, nil, nil, time.Time{}
		}
		// Nothing happens after the end of the project's activity, and
		// review stops when the merge request is merged or closed.
		stop := maxTime(mr.merged, mr.closed)
		if stop.IsZero() {
			stop = end
		}
		for _, t := range []*time.Time{&mr.firstComment, &mr.reviewerAssigned, &mr.reassigned, &mr.firstApproved} {
			if t.After(stop) {
				*t = time.Time{}
			}
		}
		for _, t := range []*time.Time{&mr.buildStarted, &mr.buildFinished} {
			if t.After(end) {
				*t = time.Time{}
			}
		}
		if mr.lastCommit.After(end) {
			mr.lastCommit = mr.firstCommit
		}
		if mr.buildStarted.IsZero() {
			mr.buildFinished = time.Time{}
		}
		switch mr.state {
		case 3:
			mr.mergeStatus = "can_be_merged"
		case 2:
			mr.mergeStatus = pick(r, []string{"can_be_merged", "unchecked", "cannot_be_merged"})
		default:
			mr.mergeStatus = pick(r, []string{"can_be_merged", "can_be_merged", "can_be_merged", "cannot_be_merged", "unchecked", "checking"})
			mr.draft = r.Float64() < 0.25
		}

		// After the merge: a pipeline on the default branch, then staging
		// and (promoted by hand) production deployments.
		if mr.state == 3 && p.buildsAL > FeatureDisabled {
			created := mr.merged.Add(40 * time.Second)
			status := "success"
			if r.Float64() < 0.1 {
				status = "failed"
			}
			if created.Before(end) {
				pm := g.newPipeline(p, nil, p.defaultBranch, 1, status, mr.mergedBy, created)
				pm.sha = mr.mergeSHA
				mr.postMerge = &pm
				run := g.runPipeline(pm)
				if status == "success" && len(p.envs) == 2 {
					g.planDeploys(r, mr, run.finished)
				}
			}
		}
		for _, is := range mr.closes {
			if mr.state == 3 && (is.closedAt.IsZero() || mr.merged.Before(is.closedAt)) {
				is.closedAt = mr.merged
				is.closedBy = mr.mergedBy
			}
		}
		g.mrs = append(g.mrs, mr)
	}
}

// planDeploys deploys the merge commit of mr to staging when its pipeline
// finished, and to production some hours later.
func (g *gen) planDeploys(r *rand.Rand, mr *mergeRequest, ready time.Time) {
	p := mr.p
	prod, staging := p.envs[0], p.envs[1]
	add := func(env *environment, created time.Time, status int16) *deploySpec {
		finished := micro(created.Add(time.Duration(180+r.IntN(600)) * time.Second))
		if finished.After(p.activeUntil) {
			return nil
		}
		g.nextDeployID++
		p.nDeploy++
		mr.deploys = append(mr.deploys, deploySpec{id: g.nextDeployID, iid: p.nDeploy, env: env, user: mr.mergedBy,
			status: status, createdAt: micro(created), finished: finished, sha: mr.mergeSHA})
		return &mr.deploys[len(mr.deploys)-1]
	}
	st := add(staging, ready.Add(20*time.Second), 2)
	if st == nil {
		return
	}
	status := int16(2)
	switch x := r.Float64(); {
	case x < 0.06:
		status = 3
	case x < 0.09:
		status = 4
	}
	pd := add(prod, workday(r, after(r, st.finished, 8)), status)
	if pd != nil && status == 2 {
		mr.prodDeployed = pd.finished
	}
}

// planScheduledPipelines adds a weekly scheduled pipeline on the default
// branch of the busier projects.
func (g *gen) planScheduledPipelines() {
	for _, p := range g.projects {
		if p.weight < 3 || p.buildsAL == FeatureDisabled {
			continue
		}
		from, to := g.activityWindow(p)
		for t := from.Truncate(24 * time.Hour).Add(3 * time.Hour); t.Before(to); t = t.AddDate(0, 0, 7) {
			status := "success"
			if x := g.r.Float64(); x < 0.12 {
				status = "failed"
			}
			g.scheduled = append(g.scheduled, g.newPipeline(p, nil, p.defaultBranch, 4, status, pick(g.r, p.maintainers), t))
		}
	}
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
