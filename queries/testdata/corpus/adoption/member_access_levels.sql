-- description: Memberships at the snapshot per kind (source_type: Namespace for groups, Project) and access level (10 guest, 15 planner, 20 reporter, 30 developer, 40 maintainer, 50 owner): memberships counts them, pending_invites those not yet accepted, expiring those with an expiry date. members, the group size, counts the distinct users who hold them. Loaded weekly as a time series.
-- owner: @gitlab-org/govern-stage
-- group_size: members
-- schedule: weekly
-- load: append
-- timeout: 5m
-- tags: adoption, govern

SELECT mb.source_type,
       mb.access_level,
       count(*) AS memberships,
       count(DISTINCT mb.user_id) AS members,
       count(*) FILTER (WHERE mb.invite_token IS NOT NULL) AS pending_invites,
       count(*) FILTER (WHERE mb.expires_at IS NOT NULL) AS expiring
FROM members mb
GROUP BY 1, 2
ORDER BY 1, 2
