-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(nextval('issues_id_seq')) AS s FROM issues
