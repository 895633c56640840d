-- title: Monthly transparency report: repeat locations
-- answers: At how many locations did community responders serve more than one call this month? (Locations are counted, never named.)
-- param: month = 2025-03
-- publish: additive
WITH m AS (SELECT CAST('${month}-01' AS TIMESTAMP) AS m0),
per_location AS (
    SELECT c.address, count(*) AS n
    FROM calls c CROSS JOIN m
    WHERE c.community_responder AND NOT c.self_initiated AND c.address IS NOT NULL
      AND c.received_local >= m.m0 AND c.received_local < m.m0 + INTERVAL '1 month'
    GROUP BY c.address
)
SELECT CASE WHEN n = 1 THEN '1 call' WHEN n = 2 THEN '2 calls' WHEN n <= 4 THEN '3-4 calls' ELSE '5 or more calls' END AS calls_at_location,
       count(*) AS locations
FROM per_location
GROUP BY 1
ORDER BY min(n)
