-- description: aDELETE FROM users
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues
