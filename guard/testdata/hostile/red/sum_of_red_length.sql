-- description: hostile input
-- owner: @security
-- group_size: n

SELECT sum(length(incoming_email_token)) AS s, count(*) AS n FROM users
