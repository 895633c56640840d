-- title: Community-responder staffing by shift (Erlang C)
-- answers: How many two-person teams must be on duty in each shift of the week (the busiest hour of the shift decides) to answer a target share of the eligible calls within a stated wait?
-- param: scenario = broad
-- param: target_share = 0.8
-- param: wait_minutes = 10
-- param: service_level = 0.8
-- param: default_minutes_on_task = 45
-- param: shift_start_hour = 7
-- param: shift_hours = 8
-- Shifts of shift_hours hours starting at shift_start_hour (local time) each day; a shift that
-- crosses midnight belongs to the day it starts. teams_needed = the most teams any hour of the shift
-- needs (staffing.sql, per hour of week); team_hours = teams summed over the shift's hours (the
-- staffed hours if teams could change every hour); eligible_calls_per_shift is per week.
-- The model and its assumptions are those of staffing.sql (repeated below; keep the two in step):
-- * Demand: eligible calls from the public (sum of p_eligible, officer-initiated excluded) received in
--   each hour of the week (local time; 0 = Monday 00:00), divided by the number of such weekdays in
--   the data (days with any call), times target_share (the share of eligible calls the program is
--   to take) = calls to serve per hour (lambda).
-- * Time on task (AHT): the mean of unit_busy_minutes / units (dispatch -> clear per responding unit)
--   over the scenario's eligible calls that have busy time; default_minutes_on_task when none have.
--   The mean, not the median, because the offered load is lambda * mean service time.
-- * Offered load A = lambda * AHT / 60 (Erlangs). One team = one server (M/M/N, Erlang C).
--   teams_needed = smallest N > A (N <= 200) with P(wait <= wait_minutes) =
--   1 - C(N, A) * exp(-(N - A) * wait_minutes / AHT) >= service_level; 0 when no calls to serve.
-- * p_wait = C(N, A), the probability a call waits for a team; utilisation = A / N.
WITH pub AS (
    SELECT (CAST(date_part('isodow', c.received_local) AS BIGINT) - 1) * 24
               + CAST(date_part('hour', c.received_local) AS BIGINT) AS how,
           e.p_eligible, e.eligible, c.unit_busy_minutes, c.units
    FROM eligibility e
    JOIN calls c ON c.call_id = e.call_id
    WHERE e.scenario = '${scenario}' AND e.outcome <> 'excluded_self_initiated'
),
params AS (
    SELECT CAST('${target_share}' AS DOUBLE) AS target_share,
           CAST('${wait_minutes}' AS DOUBLE) AS wait_minutes,
           CAST('${service_level}' AS DOUBLE) AS service_level,
           CAST('${default_minutes_on_task}' AS DOUBLE) AS default_minutes
),
days AS (
    SELECT CAST(date_part('isodow', d) AS BIGINT) - 1 AS dow, count(*) AS weeks
    FROM (SELECT DISTINCT CAST(received_local AS DATE) AS d FROM calls) dd
    GROUP BY 1
),
busy AS (
    SELECT count(*) AS n, avg(unit_busy_minutes / units) AS mean_minutes
    FROM pub
    WHERE eligible AND unit_busy_minutes IS NOT NULL AND units > 0
),
aht AS (
    SELECT CASE WHEN b.n > 0 THEN b.mean_minutes ELSE p.default_minutes END AS aht,
           CASE WHEN b.n > 0 THEN 'data: mean busy minutes per unit over ' || CAST(b.n AS VARCHAR) || ' eligible calls'
                ELSE 'default_minutes_on_task (no busy time in the data)' END AS aht_source
    FROM busy b CROSS JOIN params p
),
per_how AS (
    SELECT how, sum(p_eligible) AS eligible_calls FROM pub GROUP BY how
),
grid AS (
    SELECT how FROM unnest(range(0, 168)) AS g(how)
),
load AS (
    SELECT g.how,
           COALESCE(ph.eligible_calls, 0.0) AS eligible_calls,
           COALESCE(d.weeks, 0) AS weeks,
           COALESCE(COALESCE(ph.eligible_calls, 0.0) / CAST(NULLIF(d.weeks, 0) AS DOUBLE), 0.0) AS calls_per_hour,
           COALESCE(COALESCE(ph.eligible_calls, 0.0) / CAST(NULLIF(d.weeks, 0) AS DOUBLE), 0.0) * p.target_share AS lambda,
           a.aht, a.aht_source, p.*
    FROM grid g
    LEFT JOIN per_how ph ON ph.how = g.how
    LEFT JOIN days d ON d.dow = g.how / 24
    CROSS JOIN aht a
    CROSS JOIN params p
),
offered AS (
    SELECT *, lambda * aht / 60.0 AS a FROM load
),
-- ln(k!) for k = 0..200, so A^k / k! = exp(k ln A - ln k!) never overflows.
ks AS (
    SELECT k, sum(ln(CAST(greatest(k, 1) AS DOUBLE))) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) AS ln_fact
    FROM unnest(range(0, 201)) AS t(k)
),
terms AS (
    SELECT o.how, o.a, o.aht, o.wait_minutes, o.service_level, ks.k AS n,
           exp(CAST(ks.k AS DOUBLE) * ln(o.a) - ks.ln_fact) AS term
    FROM offered o CROSS JOIN ks
    WHERE o.a > 0
),
cum AS (
    SELECT *, sum(term) OVER (PARTITION BY how ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS below
    FROM terms
),
erlang AS (
    SELECT how, n, a, aht, wait_minutes, service_level,
           (term * n / (n - a)) / (below + term * n / (n - a)) AS c
    FROM cum
    WHERE n >= 1 AND n > a
),
sl AS (
    SELECT how, n, a, c, 1.0 - c * exp(-(n - a) * wait_minutes / aht) AS achieved, service_level FROM erlang
),
best AS (
    SELECT how, min(n) AS n FROM sl WHERE achieved >= service_level GROUP BY how
),
hourly AS (
    SELECT o.how, o.calls_per_hour, o.lambda, o.aht, o.a, o.aht_source, o.target_share, o.wait_minutes, o.service_level,
           CASE WHEN o.a <= 0 THEN 0 ELSE b.n END AS teams,
           ((o.how - CAST('${shift_start_hour}' AS BIGINT) + 168) % 168) / CAST('${shift_hours}' AS BIGINT) AS shift_no
    FROM offered o
    LEFT JOIN best b ON b.how = o.how
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
           max(target_share) AS target_share, max(wait_minutes) AS wait_minutes, max(service_level) AS service_level
    FROM hourly
    GROUP BY shift_no
)
SELECT '${scenario}' AS scenario,
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
