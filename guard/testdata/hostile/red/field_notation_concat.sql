-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.concat AS row_text, count(*) AS n FROM users u CROSS JOIN generate_series(1, 10) g GROUP BY 1
