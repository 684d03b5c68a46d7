-- description: hostile input
-- owner: @security
-- group_size: n

SELECT encrypted_password_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x_x AS p, count(*) AS n FROM users GROUP BY 1
