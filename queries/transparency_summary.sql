-- title: Monthly transparency report: summary
-- answers: How many calls came from the public, how many were in the program's hours and area, how many were eligible, how many did community responders serve, how fast, this month vs last month and year to date?
-- param: month = 2025-03
-- param: scenario = program
-- publish: per_row
-- One row per period. Counts below the publication threshold are suppressed when published;
-- a `<prefix>_n` column governs every `<prefix>_*` statistic computed from those calls.
-- Response times follow the AH Datalytics convention: self-initiated excluded, 0–1,440 minutes.
WITH bounds AS (SELECT CAST('${month}-01' AS TIMESTAMP) AS m0),
periods AS (
    SELECT 1 AS ord, 'this month' AS period, m0 AS p0, m0 + INTERVAL '1 month' AS p1 FROM bounds
    UNION ALL SELECT 2, 'last month', m0 - INTERVAL '1 month', m0 FROM bounds
    UNION ALL SELECT 3, 'year to date', date_trunc('year', m0), m0 + INTERVAL '1 month' FROM bounds
),
c AS (
    SELECT c.call_id, c.received_local, c.community_responder, c.units, c.disposition,
           e.reason, e.eligible,
           CASE WHEN c.arrived_at IS NOT NULL THEN (date_part('epoch', c.arrived_at) - date_part('epoch', c.received_at)) / 60.0 END AS response_min,
           CASE WHEN c.arrived_at IS NOT NULL AND c.cleared_at IS NOT NULL THEN (date_part('epoch', c.cleared_at) - date_part('epoch', c.arrived_at)) / 60.0 END AS scene_min
    FROM calls c JOIN eligibility e ON e.call_id = c.call_id AND e.scenario = '${scenario}'
    WHERE NOT c.self_initiated
),
j AS (SELECT p.ord, p.period, c.* FROM periods p JOIN c ON c.received_local >= p.p0 AND c.received_local < p.p1)
SELECT p.period,
       count(j.call_id) AS public_calls,
       count(j.call_id) FILTER (WHERE j.reason NOT IN ('out_of_hours', 'out_of_area')) AS in_hours_and_area_calls,
       count(j.call_id) FILTER (WHERE j.eligible) AS eligible_calls,
       count(j.call_id) FILTER (WHERE j.community_responder) AS served_calls,
       count(j.call_id) FILTER (WHERE j.eligible AND j.community_responder) AS eligible_served_calls,
       round(100.0 * count(j.call_id) FILTER (WHERE j.eligible AND j.community_responder) / nullif(count(j.call_id) FILTER (WHERE j.eligible), 0), 1) AS eligible_served_calls_pct,
       count(j.call_id) FILTER (WHERE j.community_responder AND j.units > 1) AS additional_unit_calls,
       count(j.call_id) FILTER (WHERE j.community_responder AND j.response_min BETWEEN 0 AND 1440) AS response_n,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY j.response_min) FILTER (WHERE j.community_responder AND j.response_min BETWEEN 0 AND 1440), 1) AS response_median_min,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY j.response_min) FILTER (WHERE j.community_responder AND j.response_min BETWEEN 0 AND 1440), 1) AS response_p90_min,
       count(j.call_id) FILTER (WHERE j.community_responder AND j.scene_min BETWEEN 0 AND 1440) AS scene_n,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY j.scene_min) FILTER (WHERE j.community_responder AND j.scene_min BETWEEN 0 AND 1440), 1) AS scene_median_min
FROM periods p LEFT JOIN j ON j.ord = p.ord
GROUP BY p.ord, p.period
ORDER BY p.ord
