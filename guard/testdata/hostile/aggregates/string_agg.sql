-- description: hostile input
-- owner: @security
-- group_size: n

SELECT string_agg(title, ',') AS t, count(*) AS n FROM issues
