-- description: x
-- owner: @security
-- group_size: nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn

SELECT count(*) AS n FROM issues
