-- title: Community-responder staffing by hour of week (Erlang C)
-- answers: How many two-person teams must be on duty in each hour of the week to answer a target share of the eligible calls within a stated wait?
-- param: scenario = broad
-- param: target_share = 0.8
-- param: wait_minutes = 10
-- param: service_level = 0.8
-- param: default_minutes_on_task = 45
-- Model (assumptions are repeated in the output columns):
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
-- staffing_by_shift.sql builds on this report (`-- uses: staffing`).
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
)
SELECT '${scenario}' AS scenario,
       o.how AS hour_of_week,
       CASE o.how / 24 WHEN 0 THEN 'Mon' WHEN 1 THEN 'Tue' WHEN 2 THEN 'Wed' WHEN 3 THEN 'Thu'
            WHEN 4 THEN 'Fri' WHEN 5 THEN 'Sat' ELSE 'Sun' END AS day,
       o.how % 24 AS hour,
       round(o.eligible_calls, 2) AS eligible_calls,
       o.weeks,
       round(o.calls_per_hour, 3) AS eligible_calls_per_hour,
       round(o.lambda, 3) AS calls_to_serve_per_hour,
       round(o.aht, 1) AS minutes_on_task,
       round(o.a, 3) AS offered_load_erlangs,
       CASE WHEN o.a <= 0 THEN 0 ELSE b.n END AS teams_needed,
       round(s.c, 4) AS p_wait,
       CASE WHEN o.a <= 0 THEN 1.0 ELSE round(s.achieved, 4) END AS service_level_achieved,
       round(o.a / CAST(b.n AS DOUBLE), 3) AS utilisation,
       o.target_share, o.wait_minutes, o.service_level, o.aht_source
FROM offered o
LEFT JOIN best b ON b.how = o.how
LEFT JOIN sl s ON s.how = b.how AND s.n = b.n
ORDER BY o.how
