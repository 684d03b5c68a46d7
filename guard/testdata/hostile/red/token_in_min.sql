-- description: hostile input
-- owner: @security
-- group_size: n

SELECT min(feed_token) AS t, count(*) AS n FROM users
