-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM users WHERE 𝐞𝐦𝐚𝐢𝐥 IS NULL
