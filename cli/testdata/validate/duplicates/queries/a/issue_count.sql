-- description: Issues.
-- owner: @pm
-- group_size: n
SELECT count(*) AS n FROM issues
