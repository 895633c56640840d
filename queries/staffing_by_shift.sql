-- title: Community-responder staffing by shift (Erlang C)
-- answers: How many two-person teams must be on duty in each shift of the week (the busiest hour of the shift decides) to answer a target share of the eligible calls within a stated wait?
-- uses: staffing
-- param: shift_start_hour = 7
-- param: shift_hours = 8
-- Built on the `staffing` report (per hour of week; its parameters — scenario, target_share,
-- wait_minutes, service_level, default_minutes_on_task — apply here too, and so do its model and
-- assumptions). Shifts of shift_hours hours start at shift_start_hour (local time) each day; a
-- shift that crosses midnight belongs to the day it starts. teams_needed = the most teams any hour
-- of the shift needs; team_hours = teams summed over the shift's hours (the staffed hours if teams
-- could change every hour); eligible_calls_per_shift is per week.
WITH hourly AS (
    SELECT hour_of_week AS how, eligible_calls_per_hour AS calls_per_hour, calls_to_serve_per_hour AS lambda,
           minutes_on_task AS aht, offered_load_erlangs AS a, aht_source, target_share, wait_minutes, service_level,
           teams_needed AS teams, scenario,
           ((hour_of_week - CAST('${shift_start_hour}' AS BIGINT) + 168) % 168) / CAST('${shift_hours}' AS BIGINT) AS shift_no
    FROM staffing
),
shifts AS (
    SELECT shift_no,
           (CAST('${shift_start_hour}' AS BIGINT) + shift_no * CAST('${shift_hours}' AS BIGINT)) % 168 AS start_how,
           count(*) AS hours,
           max(teams) AS teams_needed,
           sum(teams) AS team_hours,
           sum(calls_per_hour) AS eligible_calls_per_shift,
           sum(lambda) AS calls_to_serve_per_shift,
           max(a) AS peak_load_erlangs,
           max(aht) AS aht, max(aht_source) AS aht_source,
           max(target_share) AS target_share, max(scenario) AS scenario, max(wait_minutes) AS wait_minutes, max(service_level) AS service_level
    FROM hourly
    GROUP BY shift_no
)
SELECT scenario,
       CASE start_how / 24 WHEN 0 THEN 'Mon' WHEN 1 THEN 'Tue' WHEN 2 THEN 'Wed' WHEN 3 THEN 'Thu'
            WHEN 4 THEN 'Fri' WHEN 5 THEN 'Sat' ELSE 'Sun' END AS day,
       lpad(CAST(start_how % 24 AS VARCHAR), 2, '0') || ':00-' || lpad(CAST((start_how + hours) % 24 AS VARCHAR), 2, '0') || ':00' AS shift,
       start_how AS start_hour_of_week,
       hours,
       teams_needed,
       team_hours,
       round(eligible_calls_per_shift, 2) AS eligible_calls_per_shift,
       round(calls_to_serve_per_shift, 2) AS calls_to_serve_per_shift,
       round(peak_load_erlangs, 3) AS peak_load_erlangs,
       round(aht, 1) AS minutes_on_task,
       target_share, wait_minutes, service_level, aht_source
FROM shifts
ORDER BY start_how
