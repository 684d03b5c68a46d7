-- description: hostile input
-- owner: @security
-- group_size: n

SELECT /* safe */ email /* hashed */, count(*) AS n FROM users GROUP BY 1
