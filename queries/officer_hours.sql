-- title: Officer hours on eligible calls by month
-- answers: How many police unit-hours did the calls community responders could take consume each month, i.e. the hours a program would free?
-- param: scenario = broad
-- Calls from the public (officer-initiated excluded) that police served: no community-responder unit
-- attended. Hours are unit busy time (each unit's dispatch -> clear, summed over the call's units)
-- / 60: unit-hours, a two-officer car counts once. For estimated scenarios (caller not recorded)
-- calls and hours are expected values, weighted by p_eligible. Months are local months of receipt.
-- calls_without_busy_time: eligible police-served calls with no dispatch or clear time (not in the
-- hours, so the hours are a floor); pct_of_police_hours: share of all police unit-hours on calls from the public.
WITH t AS (
    SELECT c.year * 100 + c.month AS year_month,
           e.p_eligible, e.estimated, c.unit_busy_minutes
    FROM eligibility e
    JOIN calls c ON c.call_id = e.call_id
    WHERE e.scenario = '${scenario}' AND e.outcome <> 'excluded_self_initiated' AND NOT c.community_responder
)
SELECT '${scenario}' AS scenario,
       year_month,
       CAST(round(sum(p_eligible)) AS BIGINT) AS eligible_police_calls,
       CAST(round(COALESCE(sum(p_eligible) FILTER (WHERE unit_busy_minutes IS NULL), 0)) AS BIGINT) AS calls_without_busy_time,
       round(sum(p_eligible * unit_busy_minutes) / 60.0, 1) AS officer_hours,
       round(sum(p_eligible * unit_busy_minutes) / NULLIF(sum(p_eligible) FILTER (WHERE unit_busy_minutes IS NOT NULL), 0), 1) AS minutes_per_call,
       round(sum(unit_busy_minutes) / 60.0, 1) AS police_hours_public_calls,
       round(100.0 * sum(p_eligible * unit_busy_minutes) / NULLIF(sum(unit_busy_minutes), 0), 1) AS pct_of_police_hours,
       CASE WHEN bool_or(estimated) THEN 'estimate' ELSE 'count' END AS basis
FROM t
GROUP BY year_month
ORDER BY year_month
