-- title: Community-responder staffing by shift (loss system, Erlang B)
-- answers: How many two-person teams must be on duty for each shift of the week so that in no hour of the shift more than max_overflow of the eligible calls go to police, and what does that roster serve, overflow and cost in team-hours and FTE?
-- uses: staffing
-- param: shift_start_hour = 7
-- param: shift_hours = 8
-- Built on the `staffing` report (per hour of week; its parameters — scenario, max_overflow,
-- cr_minutes_on_task, staff_per_team, relief_factor — apply here too, and so do its model,
-- assumptions and sources). Shifts of shift_hours hours start at shift_start_hour (local time)
-- each day; a shift that crosses midnight belongs to the day it starts.
-- * teams_needed = the most teams any hour of the shift needs; that many teams are on duty for the
--   whole shift, so team_hours_per_week = teams_needed * hours and
--   fte = team_hours_per_week * staff_per_team * relief_factor / 56.
-- * With the shift's teams, every hour h of the shift blocks B(teams_needed, A_h) (Erlang B, the
--   same closed form in logs as `staffing`, evaluated at the shift's team count):
--   calls_overflowed_per_week = sum_h lambda_h * B, calls_served_per_week = sum_h lambda_h * (1 - B),
--   overflow_share = overflowed / eligible calls of the shift (<= max_overflow, usually below: the
--   quieter hours have teams to spare). All counts are per week.
-- * team_hours_if_hourly = the hourly report's teams summed over the shift (the staffed hours if
--   the number of teams could change every hour): the lower bound a roster can approach.
WITH hourly AS (
    SELECT hour_of_week AS how, eligible_calls_per_hour AS lambda, offered_load_erlangs AS a,
           teams_needed AS teams, scenario, cr_minutes_on_task, police_minutes_on_task, max_overflow,
           staff_per_team, relief_factor, cr_minutes_source, police_minutes_source, relief_source,
           ((hour_of_week - CAST('${shift_start_hour}' AS BIGINT) + 168) % 168) / CAST('${shift_hours}' AS BIGINT) AS shift_no
    FROM staffing
),
-- The shift's team count on every hour of the shift (a window, so `staffing` is read once).
hw AS (
    SELECT *, max(teams) OVER (PARTITION BY shift_no) AS n_shift FROM hourly
),
-- ln(k!) for k = 0..500; B(N, A) = exp(lt_N - ln sum_{k<=N} exp(lt_k)), lt_k = k ln A - ln k!,
-- every exponent taken relative to the hour's largest term.
ks AS (
    SELECT k, sum(ln(CAST(greatest(k, 1) AS DOUBLE))) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) AS ln_fact
    FROM unnest(range(0, 501)) AS t(k)
),
terms AS (
    SELECT hw.*, ks.k, CAST(ks.k AS DOUBLE) * ln(hw.a) - ks.ln_fact AS lt
    FROM hw
    LEFT JOIN ks ON ks.k <= hw.n_shift AND hw.a > 0
),
scaled AS (
    SELECT *, lt - max(lt) OVER (PARTITION BY how) AS rel FROM terms
),
per_hour AS (
    SELECT how, max(shift_no) AS shift_no, max(n_shift) AS teams_needed, max(teams) AS teams,
           max(lambda) AS lambda, max(a) AS a,
           CASE WHEN max(a) > 0 THEN exp(max(CASE WHEN k = n_shift THEN rel END) - ln(sum(exp(rel)))) ELSE 0.0 END AS b,
           max(scenario) AS scenario, max(cr_minutes_on_task) AS cr_minutes_on_task,
           max(police_minutes_on_task) AS police_minutes_on_task, max(max_overflow) AS max_overflow,
           max(staff_per_team) AS staff_per_team, max(relief_factor) AS relief_factor,
           max(cr_minutes_source) AS cr_minutes_source, max(police_minutes_source) AS police_minutes_source,
           max(relief_source) AS relief_source
    FROM scaled
    GROUP BY how
),
shifts AS (
    SELECT shift_no,
           (CAST('${shift_start_hour}' AS BIGINT) + shift_no * CAST('${shift_hours}' AS BIGINT)) % 168 AS start_how,
           count(*) AS hours,
           max(teams_needed) AS teams_needed,
           sum(teams) AS team_hours_if_hourly,
           sum(lambda) AS eligible_calls,
           sum(lambda * (1.0 - b)) AS served,
           sum(lambda * b) AS overflowed,
           max(a) AS peak_load_erlangs,
           max(scenario) AS scenario, max(cr_minutes_on_task) AS cr_minutes_on_task,
           max(police_minutes_on_task) AS police_minutes_on_task, max(max_overflow) AS max_overflow,
           max(staff_per_team) AS staff_per_team, max(relief_factor) AS relief_factor,
           max(cr_minutes_source) AS cr_minutes_source, max(police_minutes_source) AS police_minutes_source,
           max(relief_source) AS relief_source
    FROM per_hour
    GROUP BY shift_no
)
SELECT scenario,
       CASE start_how / 24 WHEN 0 THEN 'Mon' WHEN 1 THEN 'Tue' WHEN 2 THEN 'Wed' WHEN 3 THEN 'Thu'
            WHEN 4 THEN 'Fri' WHEN 5 THEN 'Sat' ELSE 'Sun' END AS day,
       lpad(CAST(start_how % 24 AS VARCHAR), 2, '0') || ':00-' || lpad(CAST((start_how + hours) % 24 AS VARCHAR), 2, '0') || ':00' AS shift,
       start_how AS start_hour_of_week,
       hours,
       teams_needed,
       round(eligible_calls, 2) AS eligible_calls_per_shift,
       round(peak_load_erlangs, 3) AS peak_load_erlangs,
       CASE WHEN eligible_calls > 0 THEN round(overflowed / eligible_calls, 4) ELSE 0.0 END AS overflow_share,
       round(served, 2) AS calls_served_per_week,
       round(overflowed, 2) AS calls_overflowed_per_week,
       teams_needed * hours AS team_hours_per_week,
       round(CAST(teams_needed * hours * staff_per_team AS DOUBLE) * relief_factor / 56.0, 3) AS fte,
       team_hours_if_hourly,
       cr_minutes_on_task, police_minutes_on_task, max_overflow, staff_per_team, relief_factor,
       cr_minutes_source, police_minutes_source, relief_source
FROM shifts
ORDER BY start_how
