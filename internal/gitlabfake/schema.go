package gitlabfake

// Schema returns the DDL of the fake GitLab schema: tables, primary keys,
// foreign keys and indexes, in the public schema of an empty database. Table
// and column names, types, nullability and defaults follow GitLab's
// db/structure.sql at the commit the package documentation names (a subset
// of the columns; timestamps keep GitLab's mix of `timestamp without time
// zone` for system times and `timestamp with time zone` for user actions);
// testdata/gitlab_columns.txt lists the columns as GitLab declares them.
func Schema() string { return tablesDDL + constraintsDDL }

// tablesDDL creates the tables without constraints or indexes, so that Load
// can copy the rows in first and build the indexes afterwards.
const tablesDDL = `
CREATE TABLE namespaces (
    id serial NOT NULL,
    name character varying NOT NULL,
    path character varying NOT NULL,
    owner_id integer,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    type character varying DEFAULT 'User'::character varying NOT NULL,
    description character varying DEFAULT ''::character varying NOT NULL,
    avatar character varying,
    membership_lock boolean DEFAULT false,
    share_with_group_lock boolean DEFAULT false,
    visibility_level integer DEFAULT 20 NOT NULL,
    request_access_enabled boolean DEFAULT true NOT NULL,
    parent_id integer,
    shared_runners_enabled boolean DEFAULT true NOT NULL,
    two_factor_grace_period integer DEFAULT 48 NOT NULL,
    traversal_ids integer[] DEFAULT '{}'::integer[] NOT NULL,
    organization_id bigint DEFAULT 1
);

CREATE TABLE routes (
    id serial NOT NULL,
    source_id integer NOT NULL,
    source_type character varying NOT NULL,
    path character varying NOT NULL,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    name character varying,
    namespace_id bigint
);

CREATE TABLE users (
    id serial NOT NULL,
    email character varying DEFAULT ''::character varying NOT NULL,
    encrypted_password character varying DEFAULT ''::character varying NOT NULL,
    reset_password_token character varying,
    reset_password_sent_at timestamp without time zone,
    remember_created_at timestamp without time zone,
    sign_in_count integer DEFAULT 0,
    current_sign_in_at timestamp without time zone,
    last_sign_in_at timestamp without time zone,
    current_sign_in_ip character varying,
    last_sign_in_ip character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    name character varying,
    admin boolean DEFAULT false NOT NULL,
    projects_limit integer NOT NULL,
    failed_attempts integer DEFAULT 0,
    locked_at timestamp without time zone,
    username character varying,
    can_create_group boolean DEFAULT true NOT NULL,
    state character varying,
    confirmation_token character varying,
    confirmed_at timestamp without time zone,
    confirmation_sent_at timestamp without time zone,
    unconfirmed_email character varying,
    notification_email character varying,
    encrypted_otp_secret character varying,
    encrypted_otp_secret_iv character varying,
    encrypted_otp_secret_salt character varying,
    otp_required_for_login boolean DEFAULT false NOT NULL,
    public_email character varying,
    external boolean DEFAULT false,
    incoming_email_token character varying,
    last_activity_on date,
    preferred_language character varying,
    feed_token character varying,
    private_profile boolean DEFAULT false NOT NULL,
    commit_email character varying,
    static_object_token character varying(255),
    user_type smallint DEFAULT 0
);

CREATE TABLE banned_users (
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    user_id bigint NOT NULL
);

CREATE TABLE projects (
    id serial NOT NULL,
    name character varying,
    path character varying,
    description text,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    creator_id integer,
    namespace_id integer NOT NULL,
    last_activity_at timestamp without time zone,
    visibility_level integer DEFAULT 0 NOT NULL,
    archived boolean DEFAULT false NOT NULL,
    star_count integer DEFAULT 0 NOT NULL,
    pending_delete boolean DEFAULT false,
    public_builds boolean DEFAULT true NOT NULL,
    last_repository_updated_at timestamp without time zone,
    request_access_enabled boolean DEFAULT true NOT NULL,
    marked_for_deletion_at date,
    mirror_user_id integer,
    marked_for_deletion_by_user_id integer,
    project_namespace_id bigint,
    organization_id bigint
);

CREATE TABLE project_features (
    id serial NOT NULL,
    project_id integer NOT NULL,
    merge_requests_access_level integer,
    issues_access_level integer,
    wiki_access_level integer,
    snippets_access_level integer DEFAULT 20 NOT NULL,
    builds_access_level integer,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    repository_access_level integer DEFAULT 20 NOT NULL,
    pages_access_level integer NOT NULL,
    forking_access_level integer,
    analytics_access_level integer DEFAULT 20 NOT NULL,
    operations_access_level integer DEFAULT 20 NOT NULL,
    security_and_compliance_access_level integer DEFAULT 10 NOT NULL,
    container_registry_access_level integer DEFAULT 0 NOT NULL,
    environments_access_level integer DEFAULT 20 NOT NULL,
    releases_access_level integer DEFAULT 20 NOT NULL
);

CREATE TABLE members (
    id serial NOT NULL,
    access_level integer NOT NULL,
    source_id integer NOT NULL,
    source_type character varying NOT NULL,
    user_id integer,
    notification_level integer NOT NULL,
    type character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    created_by_id integer,
    invite_email character varying,
    invite_token character varying,
    invite_accepted_at timestamp without time zone,
    requested_at timestamp without time zone,
    expires_at date,
    state smallint DEFAULT 0,
    member_namespace_id bigint
);

CREATE TABLE milestones (
    id serial NOT NULL,
    title character varying NOT NULL,
    project_id integer,
    description text,
    due_date date,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    state character varying,
    iid integer,
    start_date date,
    group_id integer
);

CREATE TABLE labels (
    id serial NOT NULL,
    title character varying,
    color character varying,
    project_id integer,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    template boolean DEFAULT false,
    description character varying,
    type character varying,
    group_id integer,
    lock_on_merge boolean DEFAULT false NOT NULL
);

CREATE TABLE issues (
    id serial NOT NULL,
    title character varying,
    author_id integer,
    project_id integer,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    description text,
    milestone_id integer,
    iid integer,
    updated_by_id integer,
    weight integer,
    confidential boolean DEFAULT false NOT NULL,
    due_date date,
    lock_version integer DEFAULT 0,
    time_estimate integer,
    relative_position integer,
    discussion_locked boolean,
    closed_at timestamp with time zone,
    closed_by_id integer,
    state_id smallint DEFAULT 1 NOT NULL,
    health_status smallint,
    blocking_issues_count integer DEFAULT 0 NOT NULL,
    upvotes_count integer DEFAULT 0 NOT NULL,
    work_item_type_id bigint,
    namespace_id bigint
);

CREATE TABLE issue_metrics (
    id serial NOT NULL,
    issue_id integer NOT NULL,
    first_mentioned_in_commit_at timestamp without time zone,
    first_associated_with_milestone_at timestamp without time zone,
    first_added_to_board_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);

CREATE TABLE merge_requests (
    id serial NOT NULL,
    target_branch character varying NOT NULL,
    source_branch character varying NOT NULL,
    source_project_id integer,
    author_id integer,
    assignee_id integer,
    title character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    milestone_id integer,
    merge_status character varying DEFAULT 'unchecked'::character varying NOT NULL,
    target_project_id integer NOT NULL,
    iid integer,
    description text,
    updated_by_id integer,
    merge_when_pipeline_succeeds boolean DEFAULT false NOT NULL,
    merge_user_id integer,
    merge_commit_sha character varying,
    lock_version integer DEFAULT 0,
    time_estimate integer,
    squash boolean DEFAULT false NOT NULL,
    last_edited_at timestamp without time zone,
    last_edited_by_id integer,
    discussion_locked boolean,
    state_id smallint DEFAULT 1 NOT NULL,
    draft boolean DEFAULT false NOT NULL,
    head_pipeline_id integer
);

CREATE TABLE merge_request_metrics (
    id bigserial NOT NULL,
    merge_request_id integer NOT NULL,
    latest_build_started_at timestamp without time zone,
    latest_build_finished_at timestamp without time zone,
    first_deployed_to_production_at timestamp without time zone,
    merged_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    merged_by_id integer,
    latest_closed_by_id integer,
    latest_closed_at timestamp with time zone,
    first_comment_at timestamp with time zone,
    first_commit_at timestamp with time zone,
    last_commit_at timestamp with time zone,
    diff_size integer,
    modified_paths_size integer,
    commits_count integer,
    first_approved_at timestamp with time zone,
    first_reassigned_at timestamp with time zone,
    added_lines integer,
    removed_lines integer,
    target_project_id integer,
    first_contribution boolean DEFAULT false NOT NULL,
    pipeline_id bigint
);

CREATE TABLE merge_requests_closing_issues (
    id serial NOT NULL,
    merge_request_id integer NOT NULL,
    issue_id integer NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    closes_work_item boolean DEFAULT true NOT NULL,
    from_mr_description boolean DEFAULT true NOT NULL
);

CREATE TABLE label_links (
    id serial NOT NULL,
    label_id integer,
    target_id integer,
    target_type character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone
);

CREATE TABLE notes (
    id bigserial NOT NULL,
    note text,
    noteable_type character varying,
    author_id integer,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    project_id integer,
    line_code character varying,
    commit_id character varying,
    noteable_id integer,
    system boolean DEFAULT false NOT NULL,
    updated_by_id integer,
    type character varying,
    resolved_at timestamp without time zone,
    resolved_by_id integer,
    discussion_id character varying,
    confidential boolean,
    last_edited_at timestamp with time zone,
    internal boolean DEFAULT false NOT NULL,
    namespace_id bigint
);

CREATE TABLE events (
    id bigserial NOT NULL,
    project_id integer,
    author_id integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    action smallint NOT NULL,
    target_type character varying,
    group_id bigint,
    target_id bigint
);

CREATE TABLE ci_pipelines (
    id bigserial NOT NULL,
    ref character varying,
    sha character varying,
    before_sha character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    tag boolean DEFAULT false,
    committed_at timestamp without time zone,
    project_id integer,
    status character varying,
    started_at timestamp without time zone,
    finished_at timestamp without time zone,
    duration integer,
    user_id integer,
    source integer,
    config_source integer,
    protected boolean,
    failure_reason integer,
    iid integer,
    merge_request_id integer,
    locked smallint DEFAULT 1 NOT NULL,
    partition_id bigint NOT NULL
);

CREATE TABLE ci_builds (
    status character varying,
    finished_at timestamp without time zone,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    started_at timestamp without time zone,
    commit_id bigint,
    name character varying,
    allow_failure boolean DEFAULT false NOT NULL,
    stage character varying,
    stage_idx integer,
    tag boolean,
    ref character varying,
    user_id bigint,
    type character varying,
    project_id bigint,
    "when" character varying,
    queued_at timestamp without time zone,
    retried boolean,
    protected boolean,
    failure_reason integer,
    token_encrypted character varying,
    scheduling_type smallint,
    id bigserial NOT NULL,
    partition_id bigint NOT NULL
);

CREATE TABLE environments (
    id serial NOT NULL,
    project_id integer NOT NULL,
    name character varying NOT NULL,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    external_url character varying,
    environment_type character varying,
    state character varying DEFAULT 'available'::character varying NOT NULL,
    slug character varying NOT NULL,
    tier smallint
);

CREATE TABLE deployments (
    id serial NOT NULL,
    iid integer NOT NULL,
    project_id integer NOT NULL,
    environment_id integer NOT NULL,
    ref character varying NOT NULL,
    tag boolean NOT NULL,
    sha character varying NOT NULL,
    user_id integer,
    deployable_type character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    status smallint NOT NULL,
    finished_at timestamp with time zone,
    deployable_id bigint
);
`

// constraintsDDL adds primary keys, foreign keys and the indexes GitLab has
// for the joins and filters analytics queries use. Load runs it after the
// rows are in.
const constraintsDDL = `
ALTER TABLE namespaces ADD CONSTRAINT namespaces_pkey PRIMARY KEY (id);
ALTER TABLE routes ADD CONSTRAINT routes_pkey PRIMARY KEY (id);
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE banned_users ADD CONSTRAINT banned_users_pkey PRIMARY KEY (user_id);
ALTER TABLE projects ADD CONSTRAINT projects_pkey PRIMARY KEY (id);
ALTER TABLE project_features ADD CONSTRAINT project_features_pkey PRIMARY KEY (id);
ALTER TABLE members ADD CONSTRAINT members_pkey PRIMARY KEY (id);
ALTER TABLE milestones ADD CONSTRAINT milestones_pkey PRIMARY KEY (id);
ALTER TABLE labels ADD CONSTRAINT labels_pkey PRIMARY KEY (id);
ALTER TABLE issues ADD CONSTRAINT issues_pkey PRIMARY KEY (id);
ALTER TABLE issue_metrics ADD CONSTRAINT issue_metrics_pkey PRIMARY KEY (id);
ALTER TABLE merge_requests ADD CONSTRAINT merge_requests_pkey PRIMARY KEY (id);
ALTER TABLE merge_request_metrics ADD CONSTRAINT merge_request_metrics_pkey PRIMARY KEY (id);
ALTER TABLE merge_requests_closing_issues ADD CONSTRAINT merge_requests_closing_issues_pkey PRIMARY KEY (id);
ALTER TABLE label_links ADD CONSTRAINT label_links_pkey PRIMARY KEY (id);
ALTER TABLE notes ADD CONSTRAINT notes_pkey PRIMARY KEY (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE ci_pipelines ADD CONSTRAINT ci_pipelines_pkey PRIMARY KEY (id);
ALTER TABLE ci_builds ADD CONSTRAINT ci_builds_pkey PRIMARY KEY (id);
ALTER TABLE environments ADD CONSTRAINT environments_pkey PRIMARY KEY (id);
ALTER TABLE deployments ADD CONSTRAINT deployments_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX index_routes_on_path ON routes USING btree (path);
CREATE UNIQUE INDEX index_routes_on_source_type_and_source_id ON routes USING btree (source_type, source_id);
CREATE INDEX index_routes_on_namespace_id ON routes USING btree (namespace_id);
CREATE INDEX index_namespaces_on_parent_id_and_id ON namespaces USING btree (parent_id, id);
CREATE INDEX index_namespaces_on_owner_id ON namespaces USING btree (owner_id);
CREATE INDEX index_namespaces_on_type_and_id ON namespaces USING btree (type, id);
CREATE INDEX index_namespaces_on_traversal_ids ON namespaces USING gin (traversal_ids);
CREATE UNIQUE INDEX index_users_on_username ON users USING btree (username);
CREATE UNIQUE INDEX index_users_on_email ON users USING btree (email);
CREATE INDEX index_users_on_state_and_user_type ON users USING btree (state, user_type);
CREATE INDEX index_projects_on_namespace_id_and_id ON projects USING btree (namespace_id, id);
CREATE UNIQUE INDEX index_projects_on_project_namespace_id ON projects USING btree (project_namespace_id);
CREATE INDEX index_projects_on_visibility_level_created_at_id ON projects USING btree (visibility_level, created_at, id);
CREATE UNIQUE INDEX index_project_features_on_project_id ON project_features USING btree (project_id);
CREATE INDEX index_members_on_source_id_and_source_type ON members USING btree (source_id, source_type);
CREATE INDEX index_members_on_user_id_source_id_source_type ON members USING btree (user_id, source_id, source_type);
CREATE INDEX index_milestones_on_project_id ON milestones USING btree (project_id);
CREATE INDEX index_milestones_on_group_id ON milestones USING btree (group_id);
CREATE INDEX index_milestones_on_due_date ON milestones USING btree (due_date);
CREATE INDEX index_labels_on_project_id ON labels USING btree (project_id);
CREATE INDEX index_labels_on_group_id ON labels USING btree (group_id);
CREATE INDEX index_labels_on_title ON labels USING btree (title);
CREATE UNIQUE INDEX index_issues_on_project_id_and_iid ON issues USING btree (project_id, iid);
CREATE INDEX index_issues_on_project_id_and_created_at_and_id_and_state_id ON issues USING btree (project_id, created_at, id, state_id);
CREATE INDEX index_issues_on_author_id ON issues USING btree (author_id);
CREATE INDEX index_issues_on_milestone_id ON issues USING btree (milestone_id);
CREATE INDEX index_issues_on_confidential ON issues USING btree (confidential);
CREATE INDEX index_issues_on_closed_at ON issues USING btree (closed_at);
CREATE UNIQUE INDEX index_issue_metrics_on_issue_id ON issue_metrics USING btree (issue_id);
CREATE UNIQUE INDEX index_merge_requests_on_target_project_id_and_iid ON merge_requests USING btree (target_project_id, iid);
CREATE INDEX index_merge_requests_on_target_project_id_and_created_at_and_id ON merge_requests USING btree (target_project_id, created_at, id);
CREATE INDEX index_merge_requests_on_source_project_id_and_source_branch ON merge_requests USING btree (source_project_id, source_branch);
CREATE INDEX index_merge_requests_on_author_id ON merge_requests USING btree (author_id);
CREATE INDEX index_merge_requests_on_milestone_id ON merge_requests USING btree (milestone_id);
CREATE INDEX index_merge_requests_on_state_id_and_merge_status ON merge_requests USING btree (state_id, merge_status);
CREATE UNIQUE INDEX index_merge_request_metrics_on_merge_request_id ON merge_request_metrics USING btree (merge_request_id);
CREATE INDEX index_mr_metrics_on_target_project_id_merged_at_and_mr_id ON merge_request_metrics USING btree (target_project_id, merged_at, merge_request_id);
CREATE INDEX index_merge_request_metrics_on_merged_at ON merge_request_metrics USING btree (merged_at);
CREATE UNIQUE INDEX index_mr_closing_issues_on_mr_id_and_issue_id ON merge_requests_closing_issues USING btree (merge_request_id, issue_id);
CREATE INDEX index_merge_requests_closing_issues_on_issue_id ON merge_requests_closing_issues USING btree (issue_id);
CREATE UNIQUE INDEX index_label_links_on_label_id_and_target_type_and_target_id ON label_links USING btree (label_id, target_type, target_id);
CREATE INDEX index_label_links_on_target_id_and_target_type ON label_links USING btree (target_id, target_type);
CREATE INDEX index_notes_on_noteable_id_and_noteable_type_and_system ON notes USING btree (noteable_id, noteable_type, system);
CREATE INDEX index_notes_on_project_id_and_noteable_type ON notes USING btree (project_id, noteable_type);
CREATE INDEX index_notes_on_author_id_and_created_at_and_id ON notes USING btree (author_id, created_at, id);
CREATE INDEX index_notes_on_created_at ON notes USING btree (created_at);
CREATE INDEX index_events_on_project_id_and_created_at ON events USING btree (project_id, created_at);
CREATE INDEX index_events_on_author_id_and_created_at ON events USING btree (author_id, created_at);
CREATE INDEX index_events_on_target_type_and_target_id ON events USING btree (target_type, target_id);
CREATE INDEX index_ci_pipelines_on_project_id_and_ref_and_status_and_id ON ci_pipelines USING btree (project_id, ref, status, id);
CREATE INDEX index_ci_pipelines_on_merge_request_id ON ci_pipelines USING btree (merge_request_id);
CREATE INDEX index_ci_pipelines_on_project_id_and_created_at ON ci_pipelines USING btree (project_id, created_at);
CREATE INDEX index_ci_pipelines_on_status_and_id ON ci_pipelines USING btree (status, id);
CREATE INDEX index_ci_builds_on_commit_id_and_stage_idx_and_created_at ON ci_builds USING btree (commit_id, stage_idx, created_at);
CREATE INDEX index_ci_builds_on_project_id_and_id ON ci_builds USING btree (project_id, id);
CREATE UNIQUE INDEX index_environments_on_project_id_and_name ON environments USING btree (project_id, name);
CREATE UNIQUE INDEX index_deployments_on_project_id_and_iid ON deployments USING btree (project_id, iid);
CREATE INDEX index_deployments_on_environment_id_status_and_finished_at ON deployments USING btree (environment_id, status, finished_at);
CREATE INDEX index_deployments_on_project_id_and_status_and_created_at ON deployments USING btree (project_id, status, created_at);

ALTER TABLE namespaces ADD CONSTRAINT fk_namespaces_parent_id FOREIGN KEY (parent_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE namespaces ADD CONSTRAINT fk_namespaces_owner_id FOREIGN KEY (owner_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE banned_users ADD CONSTRAINT fk_banned_users_user_id FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE routes ADD CONSTRAINT fk_routes_namespace_id FOREIGN KEY (namespace_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE projects ADD CONSTRAINT fk_projects_namespace_id FOREIGN KEY (namespace_id) REFERENCES namespaces(id) ON DELETE RESTRICT;
ALTER TABLE projects ADD CONSTRAINT fk_projects_project_namespace_id FOREIGN KEY (project_namespace_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE projects ADD CONSTRAINT fk_projects_creator_id FOREIGN KEY (creator_id) REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE project_features ADD CONSTRAINT fk_project_features_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE members ADD CONSTRAINT fk_members_user_id FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE members ADD CONSTRAINT fk_members_member_namespace_id FOREIGN KEY (member_namespace_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE milestones ADD CONSTRAINT fk_milestones_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE milestones ADD CONSTRAINT fk_milestones_group_id FOREIGN KEY (group_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE labels ADD CONSTRAINT fk_labels_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE labels ADD CONSTRAINT fk_labels_group_id FOREIGN KEY (group_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE issues ADD CONSTRAINT fk_issues_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE issues ADD CONSTRAINT fk_issues_author_id FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE issues ADD CONSTRAINT fk_issues_milestone_id FOREIGN KEY (milestone_id) REFERENCES milestones(id) ON DELETE SET NULL;
ALTER TABLE issues ADD CONSTRAINT fk_issues_namespace_id FOREIGN KEY (namespace_id) REFERENCES namespaces(id) ON DELETE CASCADE;
ALTER TABLE issue_metrics ADD CONSTRAINT fk_issue_metrics_issue_id FOREIGN KEY (issue_id) REFERENCES issues(id) ON DELETE CASCADE;
ALTER TABLE merge_requests ADD CONSTRAINT fk_merge_requests_target_project_id FOREIGN KEY (target_project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE merge_requests ADD CONSTRAINT fk_merge_requests_source_project_id FOREIGN KEY (source_project_id) REFERENCES projects(id) ON DELETE SET NULL;
ALTER TABLE merge_requests ADD CONSTRAINT fk_merge_requests_author_id FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE merge_requests ADD CONSTRAINT fk_merge_requests_milestone_id FOREIGN KEY (milestone_id) REFERENCES milestones(id) ON DELETE SET NULL;
ALTER TABLE merge_request_metrics ADD CONSTRAINT fk_merge_request_metrics_merge_request_id FOREIGN KEY (merge_request_id) REFERENCES merge_requests(id) ON DELETE CASCADE;
ALTER TABLE merge_request_metrics ADD CONSTRAINT fk_merge_request_metrics_target_project_id FOREIGN KEY (target_project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE merge_requests_closing_issues ADD CONSTRAINT fk_mr_closing_issues_merge_request_id FOREIGN KEY (merge_request_id) REFERENCES merge_requests(id) ON DELETE CASCADE;
ALTER TABLE merge_requests_closing_issues ADD CONSTRAINT fk_mr_closing_issues_issue_id FOREIGN KEY (issue_id) REFERENCES issues(id) ON DELETE CASCADE;
ALTER TABLE label_links ADD CONSTRAINT fk_label_links_label_id FOREIGN KEY (label_id) REFERENCES labels(id) ON DELETE CASCADE;
ALTER TABLE notes ADD CONSTRAINT fk_notes_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT fk_events_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT fk_events_author_id FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE ci_pipelines ADD CONSTRAINT fk_ci_pipelines_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE ci_pipelines ADD CONSTRAINT fk_ci_pipelines_merge_request_id FOREIGN KEY (merge_request_id) REFERENCES merge_requests(id) ON DELETE CASCADE;
ALTER TABLE ci_builds ADD CONSTRAINT fk_ci_builds_commit_id FOREIGN KEY (commit_id) REFERENCES ci_pipelines(id) ON DELETE CASCADE;
ALTER TABLE environments ADD CONSTRAINT fk_environments_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
ALTER TABLE deployments ADD CONSTRAINT fk_deployments_environment_id FOREIGN KEY (environment_id) REFERENCES environments(id) ON DELETE CASCADE;
ALTER TABLE deployments ADD CONSTRAINT fk_deployments_project_id FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE;
`
