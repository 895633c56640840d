-- title: Monthly transparency report: outcomes of community-responder calls
-- answers: How did the calls community responders served end (resources provided, transport, referral, police assist requested, ...)?
-- param: month = 2025-03
-- publish: additive
WITH m AS (SELECT CAST('${month}-01' AS TIMESTAMP) AS m0)
SELECT COALESCE(c.disposition, 'not recorded') AS outcome, count(*) AS calls
FROM calls c CROSS JOIN m
WHERE c.community_responder AND NOT c.self_initiated
  AND c.received_local >= m.m0 AND c.received_local < m.m0 + INTERVAL '1 month'
GROUP BY COALESCE(c.disposition, 'not recorded')
ORDER BY calls DESC, outcome
