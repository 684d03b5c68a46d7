-- description: Merge requests per project size, as of the snapshot: projects are bucketed by how many distinct people ever authored an MR in them (1-4, 5-19, 20 or more; min_authors is the bucket's lower bound). projects, the group size, counts the projects in the bucket that have at least one MR; mrs counts their MRs; mrs_per_project and median_mrs_per_project describe MRs per project. (The share merged is in mr_time_to_merge: a subquery's FILTERed count cannot be added up here.)
-- owner: @gitlab-org/create-stage
-- group_size: projects
-- schedule: weekly
-- load: append
-- timeout: 10m
-- tags: code_review, stage::create

-- Buckets are coarse on purpose: the few largest projects would each be
-- recognisable in a bucket of their own, and a bucket of fewer than
-- min_group_size projects is not loaded at all.
WITH per_project AS (
    SELECT m.target_project_id AS project_id,
           count(DISTINCT m.author_id) AS author_count,
           count(*) AS mr_count
    FROM merge_requests m
    GROUP BY m.target_project_id
)
SELECT CASE WHEN p.author_count >= 20 THEN 20 WHEN p.author_count >= 5 THEN 5 ELSE 1 END AS min_authors,
       CASE WHEN p.author_count >= 20 THEN '20+' WHEN p.author_count >= 5 THEN '5-19' ELSE '1-4' END AS size_bucket,
       count(DISTINCT p.project_id) AS projects,
       sum(p.mr_count) AS mrs,
       round(avg(p.mr_count), 1) AS mrs_per_project,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.mr_count) AS median_mrs_per_project
FROM per_project p
GROUP BY 1, 2
ORDER BY 1
