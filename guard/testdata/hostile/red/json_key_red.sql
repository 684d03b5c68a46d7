-- description: hostile input
-- owner: @security
-- group_size: n

SELECT details->>'author_email' AS e, count(*) AS n FROM audit_events GROUP BY 1
