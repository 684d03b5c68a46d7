-- description: When people work: events per ISO weekday (1 Monday to 7 Sunday) and hour of day (0 to 23, UTC), all events up to the snapshot: events counts them; pushes and comments count push and comment events. active_users, the group size, counts distinct users with an event in that hour of the week.
-- owner: @gitlab-org/analytics-section
-- group_size: active_users
-- schedule: weekly
-- load: append
-- timeout: 15m
-- max_cost: 50000000
-- tags: adoption

SELECT extract(isodow FROM e.created_at AT TIME ZONE 'UTC') AS iso_weekday,
       extract(hour FROM e.created_at AT TIME ZONE 'UTC') AS hour_utc,
       count(*) AS events,
       count(*) FILTER (WHERE e.action = 5) AS pushes,
       count(*) FILTER (WHERE e.action = 6) AS comments,
       count(DISTINCT e.author_id) AS active_users
FROM events e
GROUP BY 1, 2
ORDER BY 1, 2
