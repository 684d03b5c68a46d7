-- description: x
-- оwner: @attacker
-- group_size: n

SELECT count(*) AS n FROM issues
