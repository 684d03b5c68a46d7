-- description: hostile input
-- owner: @security
-- group_size: n

WITH u AS (UPDATE users SET admin = true RETURNING email) SELECT count(*) AS n FROM u
