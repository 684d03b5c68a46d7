-- description: Review pickup per ISO weekday of MR creation (1 Monday to 7 Sunday, UTC), all non-draft MRs up to the snapshot: mrs counts them, commented those that got a first comment; median_hours_to_first_comment and p90_hours_to_first_comment are the hours from creation to it. authors, the group size, counts distinct MR authors.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: weekly
-- load: append
-- timeout: 10m
-- tags: code_review

SELECT extract(isodow FROM m.created_at) AS iso_weekday,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(mm.first_comment_at) AS commented,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_comment_at - (m.created_at AT TIME ZONE 'UTC')) / 3600) AS median_hours_to_first_comment,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM mm.first_comment_at - (m.created_at AT TIME ZONE 'UTC')) / 3600) AS p90_hours_to_first_comment
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
WHERE NOT m.draft
GROUP BY 1
ORDER BY 1
