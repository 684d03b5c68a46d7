-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues UNION (SELECT count(*) FROM issues EXCEPT SELECT length(encrypted_password) FROM users)
