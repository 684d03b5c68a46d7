-- description: hostile input
-- owner: @security
-- group_size: n
-- owner: @attacker

SELECT count(*) AS n FROM issues
