-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(DISTINCT t.aid) AS n FROM (SELECT i.author_id AS aid, u.sign_in_count AS sc FROM issues i JOIN users u ON u.id = i.author_id) t LEFT JOIN (SELECT gs.gs AS x FROM generate_series(0, 1023) gs WHERE gs.gs % 2 = 1) b ON b.x = t.sc
