// Package gitlabfake creates a small GitLab-shaped PostgreSQL schema and
// fills it with deterministic, "lived-in" data: the source database of
// metricgate's tests, benchmarks and `make demo`.
//
// [Schema] is the DDL; [Load] creates it in an empty database and copies the
// data in (COPY), then adds keys, indexes and statistics. The same
// [Options] (Scale, Seed, Now) always give byte-identical tables.
//
// # Tables
//
// Table and column names, types and enum values follow GitLab's
// db/structure.sql (a subset of the columns): namespaces (Group, User and
// Project namespaces with traversal_ids), routes, users, banned_users, projects,
// project_features, members, labels, label_links, milestones, issues,
// issue_metrics, merge_requests, merge_request_metrics,
// merge_requests_closing_issues, notes, events, ci_pipelines, ci_builds,
// environments and deployments. [Tables] lists them in load order.
//
// # Which GitLab
//
// The reference is db/structure.sql at commit
// 002ac61dc198aa5db439235e28ac1129139df772 of a public fork of
// gitlab-org/gitlab (0x73746F70626F74686572696E676D65/gitlab-fork); its
// newest migrations are from late June 2024, the GitLab 17.2 development
// cycle. Every column here exists in that file with the same type
// (integer or bigint, character varying or text, timestamp with or
// without time zone, smallint enums), nullability and default. Columns
// that only later GitLab versions have (events.personal_namespace_id,
// merge_requests_closing_issues.project_id, issue_metrics.namespace_id, …)
// are left out, so a query written against this schema runs on that
// GitLab and, as long as GitLab keeps the columns, on later ones. Checked
// table by table:
// namespaces.traversal_ids is integer[]; users.current_sign_in_ip and
// last_sign_in_ip are character varying (the address as text), not inet;
// routes.id and source_id, notes.noteable_id and merge_requests.head_pipeline_id
// are integer; deployments.deployable_id, ci_builds.commit_id, user_id and
// project_id are bigint. projects has no default_branch (GitLab keeps it in
// the repository): the generator's default branch ("main", or "master" for
// older projects) appears only as merge_requests.target_branch and
// ci_pipelines.ref.
//
// Deliberate differences from GitLab:
//
//   - Most columns are left out; those kept are the ones the generator
//     fills, plus a few with defaults.
//   - Ids are serial or bigserial, which is GitLab's integer or bigint
//     column with its own sequence. Primary keys, foreign keys and indexes
//     are named and chosen here, for the joins analytics queries use; GitLab
//     has many more indexes, some foreign keys that are only "loose" (kept
//     by the application, not the database), and CHECK (column IS NOT NULL)
//     constraints (routes.namespace_id, issues.namespace_id and
//     work_item_type_id, members.member_namespace_id,
//     merge_request_metrics.target_project_id, …), which are left out; the
//     generator fills those columns anyway.
//   - ci_pipelines and ci_builds are plain tables. In GitLab, p_ci_builds
//     is a table partitioned BY LIST (partition_id) and ci_builds is its
//     partition for partition_id 100, with the same columns; its primary
//     key is (id, partition_id) and references to pipelines carry
//     partition_id. At the reference commit ci_pipelines is still a plain
//     table; later versions make it the partition 100 of p_ci_pipelines in
//     the same way. Both have partition_id (bigint NOT NULL, no default, as
//     in GitLab); every row here is in partition 100. On most instances
//     partition 100 holds every row; an instance that has moved on to newer
//     partitions (GitLab.com) keeps its newer rows only in the p_ tables,
//     so a query over all of them must read p_ci_builds (and, there,
//     p_ci_pipelines), which this schema does not have.
//
// Values used: visibility_level 0 private, 10 internal, 20 public;
// *_access_level 0 disabled, 10 private (members only), 20 enabled, 30
// public; issues.state_id 1 opened, 2 closed; merge_requests.state_id 1
// opened, 2 closed, 3 merged; events.action 1 created, 2 updated, 3 closed,
// 5 pushed, 6 commented, 7 merged, 12 approved; ci_pipelines.source 1 push,
// 4 schedule, 10 merge_request_event; ci statuses success, failed,
// canceled, skipped; deployments.status 2 success, 3 failed, 4 canceled;
// environments.tier 0 production, 1 staging; users.user_type 0 human, 1
// support bot, 2 alert bot, 5 ghost.
//
// # The instance
//
// Activity covers the two years before Options.Now (default
// 2026-11-01T00:00:00Z), grows over time, is quiet at weekends and at night
// (UTC), and stops at Now.
//
//   - gitlab-org ([RootGroup], public) with public projects (gitlab,
//     gitlab-runner, cli, …); gitaly with merge requests private (10);
//     omnibus-gitlab with issues private (10); gitlab-docs with issues
//     disabled (0) though it holds issues; gitlab-foss, archived
//     (activity stops nine months before Now); old-prototype, public but
//     pending_delete; release-tools (private) and internal-handbook
//     (internal).
//   - gitlab-org/security: a PRIVATE subgroup holding "gitlab", a project
//     whose own visibility_level is 20 — public-looking, not visible — and
//     a private project.
//   - gitlab-org/quality: an INTERNAL subgroup, with an internal project and
//     a visibility-20 project.
//   - gitlab-org/frontend (public) and its subgroup design-system, whose
//     pajamas project has repository and CI private (10), so its merge
//     requests are not public; gitlab-org/charts, whose chart project has CI
//     disabled.
//   - gitlab-com (public) with public, internal and private projects;
//     acme-corp (private) with a visibility-20 project in a private
//     subgroup; personal projects of about one user in six (public,
//     internal, private; some with private issues); two more community
//     projects per unit of scale.
//   - Users: root (admin), ghost, support and alert bots, gitlab-bot (which
//     comments on gitlab-org issues), and 200 humans per unit of scale,
//     mostly active, some blocked, deactivated, banned or pending approval,
//     some external or with 2FA. Every user has an email, password digest,
//     tokens and sign-in IPs (text, as GitLab stores them). Every banned
//     user (users.state 'banned') has GitLab's ban record in banned_users
//     (user_id, created_at: a week to three months before Now); besides
//     those drawn banned, the active humans with the fewest public issues
//     and merge requests in gitlab-org are banned until 3 per unit of scale
//     author both there (drawing nothing from the generator: the rest of
//     the data is as without them). GitLab hides a banned user's issues and
//     merge requests from everyone but admins.
//   - Group members with every access level, direct project members,
//     pending invitations.
//   - Group labels (type::bug, type::feature, type::maintenance,
//     priority::1..4, topics) on the top-level groups, project labels on
//     personal projects; monthly release milestones (17.0, 17.1, …) on
//     gitlab-org, two-week sprints on acme-corp/platform.
//   - Issues: some confidential, most closed, many with labels, milestone,
//     weight, board and commit-mention times; 40% of merge requests close
//     an issue of their project opened in the 60 days before them
//     (merge_requests_closing_issues), and a merged one closes it.
//   - Merge requests: first commit → opened → review requested → first
//     comment → more commits → approved → head pipeline green → merged →
//     pipeline on the default branch → staging deployment → production
//     deployment (some failed or canceled). About 74% merge, 13% are closed
//     unmerged, the rest (and whatever would end after Now) stay open.
//   - Notes: comments, diff notes, system notes (milestone, mentions,
//     approvals, merges, closes), internal notes (internal = confidential =
//     true) on issues. Events for creations, updates, pushes, comments,
//     approvals, merges and closes.
//   - Pipelines and builds: stages of jobs with log-normal durations; failed
//     pipelines have a failed job and skipped later stages; canceled ones
//     canceled jobs; weekly scheduled pipelines on the busier projects.
//
// At scale 1, grouping issues or merge requests by month and project or
// label gives many groups of 10 or more and many smaller ones, so
// group-size suppression has something to keep and something to drop.
//
// # Canaries
//
// Every value an anonymous visitor must not see carries a unique marker,
// CANARY-<table>-<column>-<id> with the id zero-padded to 8 digits
// ([CanaryPrefix] starts them all). [Canaries] lists every marker with the
// table, column and row id holding it and the reason; Stats.Canaries counts
// them. No public row contains one, so a leak test can simply search an
// export for CanaryPrefix. The markers are in:
//
//   - issues.title and issues.description of confidential issues, of
//     issues of banned users, and of every issue of a project that is not
//     public or whose issues feature is not public (private, disabled);
//   - merge_requests.title and .description of every merge request of a
//     banned user, and of a project that is not public or whose merge
//     requests or repository feature is not public;
//   - notes.note of every internal note and of every note (system notes
//     included) on such an issue or merge request;
//   - projects.name and .description of every project that is not public:
//     private or internal, pending deletion, or below a non-public group —
//     including the visibility-20 projects in gitlab-org/security and
//     acme-corp/platform — and namespaces.name and .description of every
//     non-public group. GitLab copies these names: the project's own
//     namespace (type 'Project') repeats its name and description, and
//     routes.name holds the full name with every ancestor's name;
//   - labels.description and milestones.title/.description of non-public
//     groups and projects;
//   - users.email, encrypted_password, confirmation_token,
//     notification_email, incoming_email_token and feed_token of every user,
//     and reset_password_token, encrypted_otp_secret, commit_email and
//     static_object_token where set (users.public_email is public by design
//     and carries none);
//   - ci_builds.token_encrypted of every build;
//   - members.invite_email and invite_token of pending invitations.
//
// "Public" is the dump's scope (DESIGN.md): a project with
// visibility_level 20 whose namespace and every ancestor in traversal_ids
// are public, and which is not pending deletion (GitLab hides those);
// archived public projects stay public. Within it, issues need
// issues_access_level ≥ 20, confidential = false and an author who is not
// banned; merge requests need merge_requests_access_level ≥ 20,
// repository_access_level ≥ 20 and an author who is not banned; notes need
// a public noteable and internal = false.
//
// The list grows with the data: about 76,000 markers at scale 1, most of
// them build tokens, and 3.5 million at scale 50 (several hundred MB as a
// slice; list them at small scales).
//
// # Volume and speed
//
// Rows grow linearly with Scale; the fixed projects keep their share of the
// activity. Measured on 2 cores with a pgtest cluster
// (go test -run '^$' -bench Load -benchtime 1x ./internal/gitlabfake/):
//
//	table                          scale 1     scale 50
//	users                              205       10,005
//	banned_users                         4          243
//	namespaces                         278       11,853
//	routes                             278       11,853
//	projects                            63        1,838
//	project_features                    63        1,838
//	members                            265       11,037
//	labels                             159        5,190
//	milestones                         127        1,804
//	issues                           3,000      150,000
//	issue_metrics                    3,000      150,000
//	merge_requests                   3,000      150,000
//	merge_request_metrics            3,000      150,000
//	merge_requests_closing_issues    1,087       55,901
//	label_links                      9,901      493,508
//	notes                           29,061    1,460,797
//	events                          33,829    1,698,405
//	ci_pipelines                     8,501      368,226
//	ci_builds                       62,390    2,753,131
//	environments                        10           10
//	deployments                      2,096      101,670
//	total                          160,317    7,587,309
//	Load time                         1.3s          47s
//
// About a third of the time is keys and indexes, built after the rows are
// in; scale 10 (1.5 million rows) loads in about 10 seconds.
package gitlabfake
