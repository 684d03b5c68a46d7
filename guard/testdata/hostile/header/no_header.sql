SELECT email, count(*) AS n FROM users GROUP BY 1
