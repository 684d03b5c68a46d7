package dump

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The SQL of the scope, one predicate per kind of GitLab object on a row
// alias of its own table. They are what the package documentation's scope
// rules say, and the only place that says it in SQL.
//
// minLevel is GitLab's ProjectFeature::ENABLED: a feature at 20 (enabled:
// everyone who can see the project) or 30 (public) is visible to an
// anonymous visitor of a public project; 10 (private: members only) and
// 0 (disabled) are not.
const minLevel = 20

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on in every supported PostgreSQL).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// scopeSQL builds the WITH clause and WHERE predicate that restrict table t
// (aliased t) to the public scope of group.
type scopeSQL struct {
	group    string
	schema   string
	features []string // project feature columns the query needs
	// remote, when set, is the scope computed in the main database, for
	// a table in another one: its CTEs come from these values instead of
	// the main tables.
	remote *remoteScope
}

// remoteScope is what the scope rules of a table outside the main
// database need of the main one, read from the main snapshot: the groups
// in scope, the public projects with their feature levels (as JSON rows,
// as json_agg of mg_projects gives them) and the public merge requests.
type remoteScope struct {
	groups        []int64
	projects      string
	mergeRequests []int64
}

// intArray is a bigint[] literal. COPY takes no bind parameters, so the
// values are in the statement; they are integers printed by Go.
func intArray(ids []int64) string {
	var b strings.Builder
	b.WriteString("'{")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString("}'::bigint[]")
	return b.String()
}

// projectColumns are the columns of mg_projects beyond id.
func (s *scopeSQL) projectFeatureList() []string {
	feats := slices.Clone(s.features)
	for _, f := range []string{"issues", "merge_requests", "repository", "builds"} {
		if !slices.Contains(feats, f) {
			feats = append(feats, f)
		}
	}
	return feats
}

// remoteQuery is the query, in the main snapshot, of what remote tables'
// scopes need; withMRs adds the public merge requests (pipeline scopes).
func (s *scopeSQL) remoteQuery(withMRs bool) string {
	mrs := "'{}'::bigint[]"
	if withMRs {
		mrs = fmt.Sprintf("(SELECT coalesce(array_agg(m.id ORDER BY m.id), '{}') FROM %s m WHERE %s)", s.rel("merge_requests"), s.entity("merge_request", "m"))
	}
	return s.with() + fmt.Sprintf(`SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM mg_groups)::bigint[],
  (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM mg_projects p)::text, %s::bigint[]`, mrs)
}

func (s *scopeSQL) rel(name string) string { return quoteIdent(s.schema) + "." + quoteIdent(name) }

// with returns the CTEs: mg_groups (the group and its subgroups whose
// every ancestor is public) and mg_projects (their public projects not
// pending deletion, with the access level of each feature).
func (s *scopeSQL) with() string {
	feats := s.projectFeatureList()
	if r := s.remote; r != nil {
		defs := []string{"id bigint", "public_builds boolean"}
		for _, f := range feats {
			defs = append(defs, f+" integer")
		}
		return fmt.Sprintf(`WITH mg_groups AS (SELECT unnest(%s) AS id),
mg_projects AS (SELECT * FROM json_to_recordset(%s::json) AS p(%s)),
mg_merge_requests AS (SELECT unnest(%s) AS id)
`, intArray(r.groups), quoteLiteral(r.projects), strings.Join(defs, ", "), intArray(r.mergeRequests))
	}
	cols := make([]string, len(feats))
	for i, f := range feats {
		cols[i] = fmt.Sprintf("f.%s_access_level AS %s", f, f)
	}
	return fmt.Sprintf(`WITH mg_root AS (
  SELECT r.source_id AS id FROM %[1]s r
  WHERE r.source_type = 'Namespace' AND lower(r.path) = lower(%[2]s)
), mg_groups AS (
  SELECT n.id FROM %[3]s n
  WHERE n.type = 'Group' AND (SELECT id FROM mg_root) = ANY (n.traversal_ids)
    AND NOT EXISTS (SELECT FROM %[3]s a WHERE a.id = ANY (n.traversal_ids) AND a.visibility_level <> 20)
), mg_projects AS (
  SELECT p.id, p.public_builds, %[4]s
  FROM %[5]s p JOIN %[6]s f ON f.project_id = p.id
  WHERE p.namespace_id IN (SELECT id FROM mg_groups) AND p.visibility_level = 20 AND p.pending_delete IS FALSE
)
`, s.rel("routes"), quoteLiteral(s.group), s.rel("namespaces"), strings.Join(cols, ", "), s.rel("projects"), s.rel("project_features"))
}

// entity returns the predicate that row alias x of the kind's own table is
// public: an issue of issues, a note of notes, ….
func (s *scopeSQL) entity(kind, x string) string {
	switch kind {
	case "group":
		return fmt.Sprintf("%s.id IN (SELECT id FROM mg_groups)", x)
	case "project":
		return fmt.Sprintf("%s.id IN (SELECT id FROM mg_projects)", x)
	case "issue":
		return fmt.Sprintf("%[1]s.confidential IS FALSE AND %[1]s.project_id IN (SELECT id FROM mg_projects WHERE issues >= %d) AND %s", x, minLevel, s.notBanned(x))
	case "merge_request":
		return fmt.Sprintf("%[1]s.target_project_id IN (SELECT id FROM mg_projects WHERE merge_requests >= %[2]d AND repository >= %[2]d) AND %s", x, minLevel, s.notBanned(x))
	case "note":
		return fmt.Sprintf(`%[1]s.internal IS FALSE AND %[1]s.confidential IS NOT TRUE AND (
      (%[1]s.noteable_type = 'Issue' AND EXISTS (SELECT FROM %[2]s i WHERE i.id = %[1]s.noteable_id AND %[3]s))
   OR (%[1]s.noteable_type = 'MergeRequest' AND EXISTS (SELECT FROM %[4]s m WHERE m.id = %[1]s.noteable_id AND %[5]s)))`,
			x, s.rel("issues"), s.entity("issue", "i"), s.rel("merge_requests"), s.entity("merge_request", "m"))
	case "label", "milestone":
		return fmt.Sprintf("(%[1]s.group_id IN (SELECT id FROM mg_groups) OR %[1]s.project_id IN (SELECT id FROM mg_projects WHERE issues >= %[2]d OR merge_requests >= %[2]d))", x, minLevel)
	case "pipeline":
		if s.remote != nil {
			return fmt.Sprintf(`%[1]s.project_id IN (SELECT id FROM mg_projects WHERE public_builds AND builds >= %[2]d AND repository >= %[2]d)
    AND (%[1]s.merge_request_id IS NULL OR %[1]s.merge_request_id IN (SELECT id FROM mg_merge_requests))`, x, minLevel)
		}
		return fmt.Sprintf(`%[1]s.project_id IN (SELECT id FROM mg_projects WHERE public_builds AND builds >= %[2]d AND repository >= %[2]d)
    AND (%[1]s.merge_request_id IS NULL OR EXISTS (SELECT FROM %[3]s m WHERE m.id = %[1]s.merge_request_id AND %[4]s))`,
			x, minLevel, s.rel("merge_requests"), s.entity("merge_request", "m"))
	}
	panic("dump: no entity predicate for scope kind " + kind)
}

// notBanned is the predicate that the author of row alias x (an issue or
// a merge request) is not banned: GitLab hides a banned user's issues and
// merge requests from everyone but admins (Issue.without_hidden,
// MergeRequest.without_hidden read banned_users; users.state 'banned' is
// read as well, should the two ever disagree). A NULL author (a deleted
// user's rows before they move to the ghost user) is not banned.
func (s *scopeSQL) notBanned(x string) string {
	return fmt.Sprintf(`NOT EXISTS (SELECT FROM %[2]s b WHERE b.user_id = %[1]s.author_id)
    AND NOT EXISTS (SELECT FROM %[3]s u WHERE u.id = %[1]s.author_id AND u.state = 'banned')`, x, s.rel("banned_users"), s.rel("users"))
}

// bannedSinceSQL selects the users banned since from (a timestamptz
// literal): their issues and merge requests left the scope without a
// change of their own.
func (s *scopeSQL) bannedSinceSQL(from string) string {
	return fmt.Sprintf(`SELECT b.user_id FROM %s b WHERE b.created_at > %[3]s
    UNION SELECT u.id FROM %[2]s u WHERE u.state = 'banned' AND u.updated_at > %[3]s`, s.rel("banned_users"), s.rel("users"), from)
}

// scopeKind is one kind of scope a table of dump.yml may have (scope:
// {issue: issue_id}): the kind of object its rows belong to. The
// predicate that an object of the kind is public is scopeSQL.entity's.
type scopeKind struct {
	// name is the kind's key in dump.yml.
	name string
	// table holds the objects of the kind; "" for target and event,
	// whose rows point at objects of several kinds (targetTypes).
	table string
	// remote: a table outside the main database may have the kind: its
	// rule needs only the groups, projects and merge requests of the
	// scope, which the dump computes in the main database and passes on.
	remote bool
	// changes: an increment asks which objects of the kind changed
	// (changedEntitySQL). Groups and projects are not asked for: a change
	// there is seen by comparing the scope's groups and projects as a
	// whole (Manifest.ScopeSHA256).
	changes bool
	// reads are the kinds whose objects decide whether one of this kind
	// is public (a note's issue or merge request).
	reads []string
}

// scopeKindTable holds the kinds of scope, in the order messages name
// them; each comes after the kinds it reads, the order in which an
// increment asks for the changed objects.
var scopeKindTable = []scopeKind{
	{name: "group", table: "namespaces", remote: true},
	{name: "project", table: "projects", remote: true},
	{name: "issue", table: "issues", changes: true},
	{name: "merge_request", table: "merge_requests", changes: true},
	{name: "note", table: "notes", changes: true, reads: []string{"issue", "merge_request"}},
	{name: "label", table: "labels", changes: true},
	{name: "milestone", table: "milestones", changes: true},
	{name: "pipeline", table: "ci_pipelines", remote: true, changes: true, reads: []string{"merge_request"}},
	{name: "target"},
	{name: "event"},
}

// kindNames are the names of the kinds that keep, in order.
func kindNames(keep func(scopeKind) bool) []string {
	var out []string
	for _, k := range scopeKindTable {
		if keep(k) {
			out = append(out, k.name)
		}
	}
	return out
}

var (
	// scopeKinds are the kinds a table may be scoped by.
	scopeKinds = kindNames(func(scopeKind) bool { return true })
	// remoteKinds are the scope kinds a table outside the main database
	// may have.
	remoteKinds = kindNames(func(k scopeKind) bool { return k.remote })
	// entityKinds are the kinds of object an increment reads the status
	// of, in the order changedEntitySQL needs them (notes and pipelines
	// after the issues and merge requests they belong to).
	entityKinds = kindNames(func(k scopeKind) bool { return k.changes })
)

// scopeKindOf returns the scope kind named name; the zero kind for an unknown
// name.
func scopeKindOf(name string) scopeKind {
	for _, k := range scopeKindTable {
		if k.name == name {
			return k
		}
	}
	return scopeKind{}
}

// entityTable is the table of the objects of kind: "" for target, event
// and an unknown kind.
func entityTable(kind string) string { return scopeKindOf(kind).table }

// targetTypes are the polymorphic class names a target scope follows, and
// their kind. Any other class (Commit, Snippet, DesignManagement::Design,
// WikiPage::Meta, …) is out of scope.
var targetTypes = []struct{ class, kind string }{
	{"Namespace", "group"}, {"Group", "group"}, {"Project", "project"}, {"Issue", "issue"},
	{"MergeRequest", "merge_request"}, {"Note", "note"}, {"Milestone", "milestone"}, {"Ci::Pipeline", "pipeline"},
}

// ref returns the predicate that column col of row alias t points at a
// public object of the kind. It is a correlated EXISTS on the object's
// primary key rather than IN (subquery): inside an OR (polymorphic
// targets), PostgreSQL runs an IN as a hashed subplan only while the
// subquery's result fits in work_mem, and otherwise rescans it for every
// row; an EXISTS probes the key's index, and at the top level it becomes
// a semi-join all the same. Aliases nest (x, x1, x2, …) so that inner
// references stay unambiguous.
func (s *scopeSQL) ref(kind, t, col string) string {
	if s.remote != nil && (kind == "group" || kind == "project") {
		// The main tables are not here: the scope's ids are.
		return fmt.Sprintf("%s.%s IN (SELECT id FROM mg_%ss)", t, quoteIdent(col), kind)
	}
	x := "x"
	if strings.HasPrefix(t, "x") {
		x = t + "1"
	}
	return fmt.Sprintf("EXISTS (SELECT FROM %s %s WHERE %s.id = %s.%s AND %s)", s.rel(entityTable(kind)), x, x, t, quoteIdent(col), s.entity(kind, x))
}

// where returns the predicate on alias t of table.
func (s *scopeSQL) where(table string, sc Scope) string {
	switch sc.Kind {
	case "project":
		conds := []string{"TRUE"}
		for _, f := range sc.Features {
			conds = append(conds, fmt.Sprintf("%s >= %d", f, minLevel))
		}
		return fmt.Sprintf("t.%s IN (SELECT id FROM mg_projects WHERE %s)", quoteIdent(sc.Column), strings.Join(conds, " AND "))
	case "target":
		return s.target("t", sc.Type, sc.Column)
	case "event":
		return fmt.Sprintf(`t.project_id IN (SELECT id FROM mg_projects) AND (
    (t.target_type IS NULL AND t.project_id IN (SELECT id FROM mg_projects WHERE repository >= %d))
    OR %s)`, minLevel, s.target("t", "target_type", "target_id"))
	}
	if entityTable(sc.Kind) == table && sc.Column == "id" && (s.remote == nil || sc.Kind == "pipeline") {
		return s.entity(sc.Kind, "t") // the row is the object: no self-join
	}
	return s.ref(sc.Kind, "t", sc.Column)
}

func (s *scopeSQL) target(t, typeCol, idCol string) string {
	alts := make([]string, len(targetTypes))
	for i, tt := range targetTypes {
		alts[i] = fmt.Sprintf("(%s.%s = %s AND %s)", t, quoteIdent(typeCol), quoteLiteral(tt.class), s.ref(tt.kind, t, idCol))
	}
	return "(" + strings.Join(alts, "\n    OR ") + ")"
}

// scopeColumns are the columns the scope SQL reads, and the columns an
// incremental table's changes are found by, by table: the drift check
// verifies them too. role picks the tables of one database: MainRole gets
// the tables of the main database and every table the scope rules read
// there (for all tables, wherever they are); another role gets its own
// tables and the entity tables of its scope kinds; "" means one database
// holds them all.
func scopeColumns(def *Definition, role string) map[string][]string {
	need := map[string][]string{}
	add := func(table string, cols ...string) {
		if need[table] == nil {
			need[table] = []string{}
		}
		for _, c := range cols {
			if !slices.Contains(need[table], c) {
				need[table] = append(need[table], c)
			}
		}
	}
	inMain := role == "" || role == MainRole
	if inMain {
		add("routes", "source_id", "source_type", "path")
		add("namespaces", "id", "type", "traversal_ids", "visibility_level")
		add("projects", "id", "namespace_id", "visibility_level", "pending_delete", "public_builds")
		add("project_features", "project_id", "issues_access_level", "merge_requests_access_level", "repository_access_level", "builds_access_level")
	}
	// Increments read the updated_at of the objects scopes refer to.
	var changed []string
	if len(def.incrementalTables()) > 0 {
		changed = []string{"updated_at"}
	}
	banned := func() {
		add("banned_users", "user_id", "created_at")
		add("users", "id", "state", "updated_at")
	}
	var kind func(k string, local bool)
	kind = func(k string, local bool) {
		switch k {
		case "issue":
			add("issues", append([]string{"id", "confidential", "project_id", "author_id"}, changed...)...)
			banned()
		case "merge_request":
			if inMain {
				add("merge_requests", append([]string{"id", "target_project_id", "author_id"}, changed...)...)
				banned()
			}
		case "note":
			add("notes", append([]string{"id", "internal", "confidential", "noteable_type", "noteable_id"}, changed...)...)
			kind("issue", local)
			kind("merge_request", local)
		case "label":
			add("labels", append([]string{"id", "group_id", "project_id"}, changed...)...)
		case "milestone":
			add("milestones", append([]string{"id", "group_id", "project_id"}, changed...)...)
		case "pipeline":
			if local {
				add("ci_pipelines", append([]string{"id", "project_id", "merge_request_id"}, changed...)...)
			}
			kind("merge_request", local)
		}
	}
	for _, t := range def.Tables {
		local := role == "" || role == t.Source
		if !local && !inMain {
			continue
		}
		sc := t.Scope
		if local {
			add(t.Name)
			if t.Mode == KindIncremental {
				add(t.Name, t.Key, t.UpdatedAt)
			}
		}
		switch sc.Kind {
		case "target", "event":
			for _, tt := range targetTypes {
				kind(tt.kind, local)
			}
			if sc.Kind == "event" {
				add(t.Name, "project_id", "target_type", "target_id")
			} else {
				add(t.Name, sc.Type, sc.Column)
			}
		case "project":
			if local {
				add(t.Name, sc.Column)
			}
			for _, f := range sc.Features {
				if inMain {
					add("project_features", f+"_access_level")
				}
			}
		default:
			kind(sc.Kind, local)
			if local {
				add(t.Name, sc.Column)
			}
		}
	}
	return need
}

// projectFeatures returns every feature a project scope of def needs.
func projectFeatures(def *Definition) []string {
	var out []string
	for _, t := range def.Tables {
		for _, f := range t.Scope.Features {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// SelectSQL returns the SELECT that exports table t: its allowlisted
// columns (arrays as JSON) of the rows in the public scope of def.Group.
// It is the query `metricgate dump` copies out, shown for review and
// reused by the benchmark's psql baseline.
func (def *Definition) SelectSQL(t *Table, arrays map[string]bool) string {
	return def.selectSQL(t, arrays, nil, "")
}

func (def *Definition) scope(remote *remoteScope) *scopeSQL {
	return &scopeSQL{group: def.Group, schema: def.Schema, features: projectFeatures(def), remote: remote}
}

// selectSQL is SelectSQL for a table in another database than the main
// one (remote set) and with an extra predicate on alias t ("" for none).
func (def *Definition) selectSQL(t *Table, arrays map[string]bool, remote *remoteScope, extra string) string {
	s := def.scope(remote)
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		if arrays[c] {
			cols[i] = fmt.Sprintf("to_json(t.%s) AS %s", quoteIdent(c), quoteIdent(c))
		} else {
			cols[i] = "t." + quoteIdent(c)
		}
	}
	where := s.where(t.Name, t.Scope)
	if extra != "" {
		where = "(" + where + ")\n  AND " + extra
	}
	return fmt.Sprintf("%sSELECT %s\nFROM %s t\nWHERE %s", s.with(), strings.Join(cols, ", "), s.rel(t.Name), where)
}

// upsertsSQL selects the exported columns of the rows of t whose keys
// are given, without the scope's predicate: an increment's fast path has
// just worked out, in the same transaction (so the same snapshot), that
// exactly these rows are in the scope (candidatesSQL's in_scope), and
// evaluating the scope again costs as much as the scope is big (the
// planner hashes every issue or merge request in it), not as the
// upserts are few.
func (def *Definition) upsertsSQL(t *Table, arrays map[string]bool, keys []int64) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		if arrays[c] {
			cols[i] = fmt.Sprintf("to_json(t.%s) AS %s", quoteIdent(c), quoteIdent(c))
		} else {
			cols[i] = "t." + quoteIdent(c)
		}
	}
	where := "FALSE"
	if len(keys) > 0 {
		// IN (unnest): a join on the key's index; = ANY of a long array
		// reads the whole table.
		where = "t." + quoteIdent(t.Key) + " IN (SELECT unnest(" + intArray(keys) + "))"
	}
	return fmt.Sprintf("SELECT %s\nFROM %s t\nWHERE %s", strings.Join(cols, ", "), def.scope(nil).rel(t.Name), where)
}

// keysSQL selects the key of every row of t in the scope.
func (def *Definition) keysSQL(t *Table, remote *remoteScope) string {
	s := def.scope(remote)
	return fmt.Sprintf("%sSELECT t.%s\nFROM %s t\nWHERE %s", s.with(), quoteIdent(t.Key), s.rel(t.Name), s.where(t.Name, t.Scope))
}

// changedSQL is the predicate of an increment's upserts of t: changed
// since from, or entered the scope (keys not in the previous dump's).
func changedSQL(t *Table, from time.Time, entered []int64) string {
	p := fmt.Sprintf("t.%s > %s::timestamptz", quoteIdent(t.UpdatedAt), quoteLiteral(from.UTC().Format(time.RFC3339Nano)))
	if len(entered) > 0 {
		p = fmt.Sprintf("(%s OR t.%s = ANY (%s))", p, quoteIdent(t.Key), intArray(entered))
	}
	return p
}

// changedEntitySQL selects, with whether each is in the scope now, the
// objects of kind that changed since from (their updated_at), or whose
// scope reads an object of the sets given (a note on an issue or merge
// request of changed, a pipeline for a merge request of changed): the
// objects that may have entered or left the scope. Groups and projects
// are not asked for: a change there is seen by comparing the scope's
// groups and projects as a whole (Manifest.ScopeSHA256).
func (def *Definition) changedEntitySQL(kind string, from time.Time, changed map[string][]int64) string {
	s := def.scope(nil)
	f := quoteLiteral(from.UTC().Format(time.RFC3339Nano)) + "::timestamptz"
	rel := s.rel(entityTable(kind))
	arms := []string{fmt.Sprintf("SELECT x.id AS k FROM %s x WHERE x.updated_at > %s", rel, f)}
	dep := func(cond, col, of string) {
		if ids := changed[of]; len(ids) > 0 {
			arms = append(arms, fmt.Sprintf("SELECT x.id FROM %s x WHERE %sx.%s = ANY (%s)", rel, cond, col, intArray(ids)))
		}
	}
	switch kind {
	case "issue", "merge_request":
		// A ban changes neither the issue nor the merge request.
		arms = append(arms, fmt.Sprintf("SELECT x.id FROM %s x WHERE x.author_id IN (%s)", rel, s.bannedSinceSQL(f)))
	case "note":
		dep("x.noteable_type = 'Issue' AND ", "noteable_id", "issue")
		dep("x.noteable_type = 'MergeRequest' AND ", "noteable_id", "merge_request")
	case "pipeline":
		dep("", "merge_request_id", "merge_request")
	}
	// coalesce: a scope is NULL for some rows (a milestone without a
	// group, of a project out of the scope: NULL OR FALSE), which a WHERE
	// reads as out of it.
	return fmt.Sprintf("%s, mg_changed AS MATERIALIZED (\n  %s\n)\nSELECT x.id, coalesce(%s, FALSE)\nFROM %s x\nWHERE x.id = ANY (ARRAY(SELECT k FROM mg_changed))",
		strings.TrimSuffix(s.with(), "\n"), strings.Join(arms, "\n  UNION "), s.entity(kind, "x"), rel)
}

// candidatesSQL selects, with whether it is in the scope now, the key of
// every row of t whose scope or content may have changed since from: rows
// changed themselves (t's updated_at) and rows whose scope reads an
// object that entered or left the scope (changed, by kind; see
// changedEntitySQL). While the scope's groups and projects are the same
// as at the previous dump, a row not among these is in the scope now
// exactly when it was then.
func (def *Definition) candidatesSQL(t *Table, from time.Time, changed map[string][]int64) string {
	s := def.scope(nil)
	f := quoteLiteral(from.UTC().Format(time.RFC3339Nano)) + "::timestamptz"
	key := "t." + quoteIdent(t.Key)
	rel := s.rel(t.Name)
	arms := []string{fmt.Sprintf("SELECT %s AS k FROM %s t WHERE t.%s > %s", key, rel, quoteIdent(t.UpdatedAt), f)}
	ref := func(col, kind, cond string) {
		if ids := changed[kind]; len(ids) > 0 {
			arms = append(arms, fmt.Sprintf("SELECT %s FROM %s t WHERE t.%s = ANY (%s)%s", key, rel, quoteIdent(col), intArray(ids), cond))
		}
	}
	sc := t.Scope
	switch sc.Kind {
	case "project", "group":
	case "target", "event":
		typeCol, idCol := sc.Type, sc.Column
		if sc.Kind == "event" {
			typeCol, idCol = "target_type", "target_id"
		}
		for _, tt := range targetTypes {
			ref(idCol, tt.kind, fmt.Sprintf(" AND t.%s = %s", quoteIdent(typeCol), quoteLiteral(tt.class)))
		}
	default:
		ref(sc.Column, sc.Kind, "")
	}
	// = ANY (ARRAY(…)): an index scan of the candidates' keys; a join on
	// the CTE is planned without its size and reads the whole table.
	return fmt.Sprintf("%s, mg_candidates AS MATERIALIZED (\n  %s\n)\nSELECT %s, coalesce(%s, FALSE) AS in_scope\nFROM %s t\nWHERE %s = ANY (ARRAY(SELECT k FROM mg_candidates))",
		strings.TrimSuffix(s.with(), "\n"), strings.Join(arms, "\n  UNION "), key, s.where(t.Name, t.Scope), rel, key)
}

// allKeysSQL selects the key of every row of t, in the scope or not: the
// rows deleted since the previous dump are those of its keys not here.
func (def *Definition) allKeysSQL(t *Table) string {
	return fmt.Sprintf("SELECT %s FROM %s", quoteIdent(t.Key), def.scope(nil).rel(t.Name))
}

// scopeSHA256SQL is the query of a digest of the scope's groups and
// projects with their feature levels, in the main snapshot.
func (def *Definition) scopeSHA256SQL() string {
	return def.scope(nil).with() + `SELECT md5((SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM mg_groups)::text
  || (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM mg_projects p)::text)`
}
