-- description: Merge requests per month of creation (UTC) and draft status at the snapshot (draft true or false): mrs counts them; merged_mrs and closed_mrs count those merged and closed without merge, merged_rate is merged_mrs / mrs (0 to 1). authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review

SELECT date_trunc('month', m.created_at)::date AS month,
       m.draft,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE m.state_id = 3) AS merged_mrs,
       count(*) FILTER (WHERE m.state_id = 2) AS closed_mrs,
       round(count(*) FILTER (WHERE m.state_id = 3)::numeric / count(*), 4) AS merged_rate
FROM merge_requests m
GROUP BY 1, 2
ORDER BY 1, 2
