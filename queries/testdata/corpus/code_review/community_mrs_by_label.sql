-- description: Merge requests per quarter of creation (UTC), split by whether they carry the Community contribution label (community true or false): mrs counts them, merged_mrs those merged, merged_rate their share (0 to 1), median_hours_to_merge the hours from creation to merge of the merged ones. authors, the group size, counts distinct MR authors. The current quarter is partial.
-- owner: @gitlab-org/developer-relations
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review, community

SELECT date_trunc('quarter', m.created_at)::date AS quarter,
       EXISTS (SELECT 1
               FROM label_links ll
               JOIN labels l ON l.id = ll.label_id
               WHERE ll.target_id = m.id
                 AND ll.target_type = 'MergeRequest'
                 AND l.title = 'Community contribution') AS community,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE m.state_id = 3) AS merged_mrs,
       round(count(*) FILTER (WHERE m.state_id = 3)::numeric / count(*), 4) AS merged_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600) AS median_hours_to_merge
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
GROUP BY 1, 2
ORDER BY 1, 2
