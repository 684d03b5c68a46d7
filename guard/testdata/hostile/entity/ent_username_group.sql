-- description: hostile input
-- owner: @security
-- group_size: n

SELECT u.username AS who, count(*) AS n FROM events e JOIN users u ON u.id = e.author_id GROUP BY 1
