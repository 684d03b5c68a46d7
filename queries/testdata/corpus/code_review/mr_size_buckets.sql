-- description: Merged MRs per quarter of merge (UTC) and size bucket (lines added plus removed: XS under 10, S under 100, M under 500, L under 1000, XL 1000 or more): merged_mrs counts them; median_hours_to_merge and p90_hours_to_merge are hours from creation to merge; median_commits the median commit count; median_files the median number of changed files (modified_paths_size). authors, the group size, counts distinct MR authors. The current quarter is partial.
-- owner: @gitlab-org/create-stage
-- group_size: authors
-- schedule: weekly
-- load: replace
-- timeout: 10m
-- tags: code_review, stage::create

WITH merged AS (
    SELECT m.author_id,
           m.created_at,
           mm.merged_at,
           mm.commits_count,
           mm.modified_paths_size,
           coalesce(mm.added_lines, 0) + coalesce(mm.removed_lines, 0) AS changed_lines
    FROM merge_requests m
    JOIN merge_request_metrics mm ON mm.merge_request_id = m.id
    WHERE m.state_id = 3
      AND mm.merged_at IS NOT NULL
)
SELECT date_trunc('quarter', merged_at)::date AS quarter,
       CASE
           WHEN changed_lines < 10 THEN '1_xs'
           WHEN changed_lines < 100 THEN '2_s'
           WHEN changed_lines < 500 THEN '3_m'
           WHEN changed_lines < 1000 THEN '4_l'
           ELSE '5_xl'
       END AS size_bucket,
       count(*) AS merged_mrs,
       count(DISTINCT author_id) AS authors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM merged_at - created_at) / 3600) AS median_hours_to_merge,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM merged_at - created_at) / 3600) AS p90_hours_to_merge,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY commits_count) AS median_commits,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY modified_paths_size) AS median_files
FROM merged
GROUP BY 1, 2
ORDER BY 1, 2
