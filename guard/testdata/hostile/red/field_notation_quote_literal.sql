-- description: hostile input
-- owner: @security
-- group_size: n

SELECT s.quote_literal AS q, count(*) AS n FROM (SELECT * FROM users) s GROUP BY 1
