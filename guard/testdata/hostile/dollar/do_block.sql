-- description: hostile input
-- owner: @security
-- group_size: n

DO $$ BEGIN DELETE FROM users; END $$
