-- description: hostile input
-- owner: @security
-- group_size: n

MERGE INTO users u USING issues i ON i.author_id = u.id WHEN MATCHED THEN DELETE
