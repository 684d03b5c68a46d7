-- description: hostile input
-- owner: @security
-- group_size: n

-- Round 21: percentiles at many fractions list a class's values; lists
-- under overlapping FILTERs link one issue across them.
SELECT count(DISTINCT i.author_id) AS n,
       percentile_disc(0.1) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.confidential) AS c1,
       percentile_disc(0.2) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.confidential) AS c2,
       percentile_disc(0.3) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.confidential) AS c3,
       percentile_disc(0.4) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.confidential) AS c4,
       percentile_disc(0.1) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.title LIKE 'Support%') AS s1,
       percentile_disc(0.2) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.title LIKE 'Support%') AS s2,
       percentile_disc(0.3) WITHIN GROUP (ORDER BY i.updated_at - i.created_at) FILTER (WHERE i.title LIKE 'Support%') AS s3
FROM issues i
