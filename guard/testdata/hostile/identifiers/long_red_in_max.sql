-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n, max(confirmation_token_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad_pad) AS m FROM users
