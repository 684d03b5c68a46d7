-- description: hostile input
-- owner: @security
-- group_size: n

WITH c AS (SELECT id FROM issues FOR NO KEY UPDATE) SELECT count(*) AS n FROM c
