-- title: Eligible calls by scenario, category, month, district and hour of week
-- answers: Where and when (month, district, weekday and hour, local time of receipt) are the calls community responders could take, and what share of the calls from the public are they?
-- param: scenario = broad
-- Calls from the public only (officer-initiated excluded). eligible_calls is the expected count
-- (sum of p_eligible): a plain count for counted scenarios, an estimate where the caller is not
-- recorded (basis = estimate). hour_of_week runs 0 (Monday 00:00-00:59) to 167 (Sunday 23:00).
-- eligible_pct is the share of the cell's calls from the public.
WITH t AS (
    SELECT e.scenario,
           COALESCE(c.category, '(unmapped)') AS category,
           c.year * 100 + c.month AS year_month,
           COALESCE(c.district, '(none)') AS district,
           (CAST(date_part('isodow', c.received_local) AS BIGINT) - 1) * 24
               + CAST(date_part('hour', c.received_local) AS BIGINT) AS hour_of_week,
           e.p_eligible, e.estimated
    FROM eligibility e
    JOIN calls c ON c.call_id = e.call_id
    WHERE e.scenario = '${scenario}' AND e.outcome <> 'excluded_self_initiated'
)
SELECT scenario, category, year_month, district, hour_of_week,
       CASE hour_of_week / 24 WHEN 0 THEN 'Mon' WHEN 1 THEN 'Tue' WHEN 2 THEN 'Wed' WHEN 3 THEN 'Thu'
            WHEN 4 THEN 'Fri' WHEN 5 THEN 'Sat' ELSE 'Sun' END AS day,
       hour_of_week % 24 AS hour,
       count(*) AS public_calls,
       round(sum(p_eligible), 2) AS eligible_calls,
       round(100.0 * sum(p_eligible) / count(*), 1) AS eligible_pct,
       CASE WHEN bool_or(estimated) THEN 'estimate' ELSE 'count' END AS basis
FROM t
GROUP BY scenario, category, year_month, district, hour_of_week
ORDER BY scenario, category, year_month, district, hour_of_week
