-- title: Monthly transparency report: eligible calls not served by a community responder, by reason
-- answers: Of the calls the program could have taken if it ran everywhere at all hours, why did community responders not serve them?
-- param: month = 2025-03
-- param: scenario = program
-- param: broad_scenario = broad
-- publish: additive
-- Reasons are kept apart and never folded into "ineligible": outside the program's hours or
-- area, or eligible but answered by police — a CAD export does not record whether a team was
-- free, so that reason is "unknown (no unit-availability data)".
WITH m AS (SELECT CAST('${month}-01' AS TIMESTAMP) AS m0),
c AS (
    SELECT c.call_id, c.community_responder, p.reason AS program_reason
    FROM calls c
    JOIN eligibility b ON b.call_id = c.call_id AND b.scenario = '${broad_scenario}' AND b.eligible
    JOIN eligibility p ON p.call_id = c.call_id AND p.scenario = '${scenario}'
    CROSS JOIN m
    WHERE c.received_local >= m.m0 AND c.received_local < m.m0 + INTERVAL '1 month' AND NOT c.community_responder
),
r AS (
    SELECT CASE program_reason
               WHEN 'out_of_hours' THEN 'outside program hours'
               WHEN 'out_of_area' THEN 'outside program area'
               WHEN 'eligible' THEN 'unknown (no unit-availability data)'
               ELSE 'outside the program''s scenario: ' || program_reason END AS reason
    FROM c
)
SELECT reason, count(*) AS calls FROM r GROUP BY reason ORDER BY calls DESC, reason
