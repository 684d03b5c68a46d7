-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues WHERE query_to_xml('SELECT email FROM users', true, true, '') IS NOT NULL
