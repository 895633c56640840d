-- title: Eligible calls by scenario and month
-- answers: How does the eligible volume move month to month (local time of receipt)?
SELECT e.scenario,
       c.year * 100 + c.month AS year_month,
       count(*) AS public_calls,
       CAST(round(sum(e.p_eligible)) AS BIGINT) AS eligible_calls,
       round(100.0 * sum(e.p_eligible) / count(*), 1) AS eligible_pct,
       count(*) FILTER (WHERE e.eligible AND NOT e.estimated) AS eligible_low,
       count(*) FILTER (WHERE e.eligible) AS eligible_high,
       CASE WHEN bool_or(e.estimated) THEN 'estimate' ELSE 'count' END AS basis
FROM eligibility e
JOIN calls c ON c.call_id = e.call_id
WHERE e.outcome <> 'excluded_self_initiated'
GROUP BY e.scenario, c.year * 100 + c.month
ORDER BY e.scenario, year_month
