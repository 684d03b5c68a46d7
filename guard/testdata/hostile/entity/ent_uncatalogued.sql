-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM personal_access_tokens t JOIN users u ON u.id = t.user_id
