-- description: hostile input
-- owner: @security
-- group_size: n
-- load: replace; TRUNCATE issues

SELECT count(*) AS n FROM issues
