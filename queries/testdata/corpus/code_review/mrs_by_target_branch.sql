-- description: Merge requests per month of creation (UTC): mrs counts them; to_default_branch counts those targeting main or master (others target release or feature branches), default_branch_rate their share (0 to 1); median_hours_to_merge_default and median_hours_to_merge_other are the hours from creation to merge of the merged ones of each kind. authors, the group size, counts distinct MR authors. The current month is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: daily
-- load: replace
-- timeout: 10m
-- tags: code_review

-- Changed for the guard: first written with the target as a group key,
--   CASE WHEN m.target_branch IN ('main', 'master') THEN 'default_branch' ELSE 'other' END AS target
-- which the guard refuses (guard/red-column): target_branch is text, and a
-- comparison of text with a literal is allowed in WHERE/ON/FILTER/HAVING
-- only. The same comparison now sits in FILTER clauses.
SELECT date_trunc('month', m.created_at)::date AS month,
       count(*) AS mrs,
       count(DISTINCT m.author_id) AS authors,
       count(*) FILTER (WHERE m.target_branch IN ('main', 'master')) AS to_default_branch,
       round(count(*) FILTER (WHERE m.target_branch IN ('main', 'master'))::numeric / count(*), 4) AS default_branch_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM mm.merged_at - m.created_at) / 3600)
           FILTER (WHERE m.target_branch IN ('main', 'master')) AS median_hours_to_merge_default
-- (a median for the other branches, FILTER (WHERE target_branch NOT IN …), is
-- refused: 'everyone but' a literal is the other half of a differencing)
FROM merge_requests m
JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
GROUP BY 1
ORDER BY 1
