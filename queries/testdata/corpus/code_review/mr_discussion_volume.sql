-- description: Merge requests per quarter of creation (UTC) and discussion volume (human comments on the MR: 0, 1-2, 3-5, 6 or more; system notes left out): mrs counts them, merged_mrs those merged, merged_rate their share (0 to 1). authors, the group size, counts distinct MR authors. The current quarter is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: code_review

SELECT date_trunc('quarter', m.created_at)::date AS quarter,
       CASE
           WHEN c.comments = 0 THEN '0'
           WHEN c.comments <= 2 THEN '1-2'
           WHEN c.comments <= 5 THEN '3-5'
           ELSE '6+'
       END AS comments_bucket,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE m.state_id = 3) AS merged_mrs,
       round(count(*) FILTER (WHERE m.state_id = 3)::numeric / count(*), 4) AS merged_rate
FROM merge_requests m
CROSS JOIN LATERAL (
    SELECT count(*) AS comments
    FROM notes n
    WHERE n.noteable_id = m.id
      AND n.noteable_type = 'MergeRequest'
      AND NOT n.system
) c
GROUP BY 1, 2
ORDER BY 1, 2
