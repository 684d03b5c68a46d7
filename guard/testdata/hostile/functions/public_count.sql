-- description: hostile input
-- owner: @security
-- group_size: n

SELECT public.count(*) AS n FROM issues
