-- description: hostile input
-- owner: @security
-- group_size: n

SELECT count(*) AS n FROM issues, XMLTABLE('/a' PASSING xmlparse(document '<a/>') COLUMNS x int) AS x
