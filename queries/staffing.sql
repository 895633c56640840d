-- title: Community-responder staffing by hour of week (loss system, Erlang B)
-- answers: How many two-person teams must be on duty in each hour of the week so that at most max_overflow of the eligible calls find every team busy and go to police, and how many calls are served and overflowed?
-- param: scenario = broad
-- param: max_overflow = 0.2
-- param: cr_minutes_on_task = 30
-- param: staff_per_team = 2
-- param: relief_factor = 1.7
-- Model (assumptions and their sources are repeated in the output columns):
-- * Demand: expected eligible calls from the public (sum of p_eligible, so an estimated call counts
--   with its probability; officer-initiated excluded) received in each hour of the week (local
--   time; 0 = Monday 00:00), divided by the number of such weekdays in the data (days with any
--   call) = lambda, calls per hour (= calls in that hour of each week).
-- * Loss system (M/M/N/N, Erlang B): a call that arrives while all N teams are busy is not queued
--   but goes to police. Overflow share = blocking probability
--       B(N, A) = (A^N / N!) / sum_{k=0..N} A^k / k!,   A = lambda * cr_minutes_on_task / 60 (Erlangs).
--   B depends on the time on task only through its mean (insensitivity), so no distribution is
--   assumed. teams_needed = smallest N (0..500) with B(N, A) <= max_overflow; 0 when A = 0; NULL
--   when even 500 teams do not reach it (A above ~500 Erlangs). Computed with the closed form in
--   logs (ln k! by a running sum, log-sum-exp against the largest term of the hour), not with the
--   recursion B(n) = A B(n-1) / (n + A B(n-1)) in a WITH RECURSIVE (DataFusion 55 runs recursive
--   CTEs, but the closed form needs only generate/unnest, windows and aggregates, which every
--   distributed SQL engine has). Dispatchers who hold a call a few minutes for a team to clear
--   (Erlang A) would overflow less: B is the conservative side.
-- * Served per week = lambda * (1 - B), overflowed to police per week = lambda * B; utilisation
--   = carried load per team = A (1 - B) / N. Each row is one hour of the week, so the 168 rows add
--   up to a week.
-- * cr_minutes_on_task (community-responder time per call, dispatch to clear): default 30 =
--   Denver STAR's one-year pilot, "average call time was less than a half-hour, about 5 minutes
--   faster than a typical police response on the same type of call" (DDPHE, Aug 2021, as reported
--   by CBS News Colorado, "STAR Program In Denver Expands To Respond To Calls Seven Days A Week").
--   police_minutes_on_task (mean unit_busy_minutes / units over the eligible calls that have busy
--   time, weighted by p_eligible) is reported for comparison only; it is not the team's time.
-- * Staff: team_hours_per_week = teams on duty in the hour (one hour a week);
--   fte = team_hours_per_week * staff_per_team * relief_factor / 56. relief_factor 1.7 = FTE needed
--   to fill one 8-hour post every day of the year (56 post-hours a week): 2,920 post-hours a year /
--   1,698 hours one employee is available (2,080 scheduled minus 18.4 % absence: leave, sick,
--   training) (Local Government Performance Center, "Calculating Staffing Needs Using the Relief
--   Factor Method", 2012). Do not apply a 1.6-1.8 relief factor to 40-hour weeks: it already covers
--   the days off of a seven-day post (7/5 = 1.4 of the 1.7).
-- staffing_by_shift.sql builds on this report (`-- uses: staffing`).
WITH pub AS (
    SELECT (CAST(date_part('isodow', c.received_local) AS BIGINT) - 1) * 24
               + CAST(date_part('hour', c.received_local) AS BIGINT) AS how,
           e.p_eligible, c.unit_busy_minutes, c.units
    FROM eligibility e
    JOIN calls c ON c.call_id = e.call_id
    WHERE e.scenario = '${scenario}' AND e.outcome <> 'excluded_self_initiated'
),
params AS (
    SELECT CAST('${max_overflow}' AS DOUBLE) AS max_overflow,
           CAST('${cr_minutes_on_task}' AS DOUBLE) AS cr_minutes,
           CAST('${staff_per_team}' AS BIGINT) AS staff_per_team,
           CAST('${relief_factor}' AS DOUBLE) AS relief_factor
),
days AS (
    SELECT CAST(date_part('isodow', d) AS BIGINT) - 1 AS dow, count(*) AS weeks
    FROM (SELECT DISTINCT CAST(received_local AS DATE) AS d FROM calls) dd
    GROUP BY 1
),
police AS (
    SELECT count(*) AS n,
           sum(p_eligible * unit_busy_minutes / units) / sum(p_eligible) AS minutes
    FROM pub
    WHERE p_eligible > 0 AND unit_busy_minutes IS NOT NULL AND units > 0
),
per_how AS (
    SELECT how, sum(p_eligible) AS eligible_calls FROM pub GROUP BY how
),
grid AS (
    SELECT how FROM unnest(range(0, 168)) AS g(how)
),
offered AS (
    SELECT g.how,
           COALESCE(ph.eligible_calls, 0.0) AS eligible_calls,
           COALESCE(d.weeks, 0) AS weeks,
           COALESCE(COALESCE(ph.eligible_calls, 0.0) / CAST(NULLIF(d.weeks, 0) AS DOUBLE), 0.0) AS lambda,
           COALESCE(COALESCE(ph.eligible_calls, 0.0) / CAST(NULLIF(d.weeks, 0) AS DOUBLE), 0.0) * p.cr_minutes / 60.0 AS a
    FROM grid g
    LEFT JOIN per_how ph ON ph.how = g.how
    LEFT JOIN days d ON d.dow = g.how / 24
    CROSS JOIN params p
),
-- ln(k!) for k = 0..500, so A^k / k! = exp(k ln A - ln k!) is never formed directly.
ks AS (
    SELECT k, sum(ln(CAST(greatest(k, 1) AS DOUBLE))) OVER (ORDER BY k ROWS UNBOUNDED PRECEDING) AS ln_fact
    FROM unnest(range(0, 501)) AS t(k)
),
terms AS (
    SELECT o.how, ks.k AS n, CAST(ks.k AS DOUBLE) * ln(o.a) - ks.ln_fact AS lt
    FROM offered o CROSS JOIN ks
    WHERE o.a > 0
),
-- B(n) = exp(lt_n - ln sum_{k<=n} exp(lt_k)); every exponent is taken relative to the hour's largest term.
scaled AS (
    SELECT how, n, lt, lt - max(lt) OVER (PARTITION BY how) AS rel FROM terms
),
erlang_b AS (
    SELECT how, n,
           exp(rel - ln(sum(exp(rel)) OVER (PARTITION BY how ORDER BY n ROWS UNBOUNDED PRECEDING))) AS b
    FROM scaled
),
-- 1e-9: a B equal to the target (e.g. B(1, 0.25) = 0.2) meets it whatever the last bit of exp/ln.
best AS (
    SELECT e.how, min(e.n) AS n FROM erlang_b e CROSS JOIN params p WHERE e.b <= p.max_overflow + 1e-9 GROUP BY e.how
),
hourly AS (
    SELECT o.*,
           CASE WHEN o.a <= 0 THEN 0 ELSE bt.n END AS teams,
           CASE WHEN o.a <= 0 THEN 0.0 ELSE eb.b END AS b
    FROM offered o
    LEFT JOIN best bt ON bt.how = o.how
    LEFT JOIN erlang_b eb ON eb.how = bt.how AND eb.n = bt.n
)
SELECT '${scenario}' AS scenario,
       h.how AS hour_of_week,
       CASE h.how / 24 WHEN 0 THEN 'Mon' WHEN 1 THEN 'Tue' WHEN 2 THEN 'Wed' WHEN 3 THEN 'Thu'
            WHEN 4 THEN 'Fri' WHEN 5 THEN 'Sat' ELSE 'Sun' END AS day,
       h.how % 24 AS hour,
       round(h.eligible_calls, 2) AS eligible_calls,
       h.weeks,
       round(h.lambda, 3) AS eligible_calls_per_hour,
       round(h.a, 3) AS offered_load_erlangs,
       h.teams AS teams_needed,
       round(h.b, 4) AS overflow_share,
       round(h.lambda * (1.0 - h.b), 3) AS calls_served_per_week,
       round(h.lambda * h.b, 3) AS calls_overflowed_per_week,
       CASE WHEN h.teams > 0 THEN round(h.a * (1.0 - h.b) / CAST(h.teams AS DOUBLE), 3) END AS utilisation,
       h.teams AS team_hours_per_week,
       round(CAST(h.teams * p.staff_per_team AS DOUBLE) * p.relief_factor / 56.0, 4) AS fte,
       p.cr_minutes AS cr_minutes_on_task,
       round(pol.minutes, 1) AS police_minutes_on_task,
       p.max_overflow, p.staff_per_team, p.relief_factor,
       CASE WHEN p.cr_minutes = 30.0
            THEN 'default: Denver STAR pilot, average call time under half an hour (DDPHE, Aug 2021)'
            ELSE 'cr_minutes_on_task given by the analyst' END AS cr_minutes_source,
       CASE WHEN pol.n > 0 THEN 'data: mean busy minutes per unit over ' || CAST(pol.n AS VARCHAR) || ' eligible calls (weighted by p_eligible)'
            ELSE 'no busy time on eligible calls in the data' END AS police_minutes_source,
       CASE WHEN p.relief_factor = 1.7
            THEN 'default: FTE per 8-hour post staffed 7 days = 2920 / 1698 available hours (Local Government Performance Center, 2012)'
            ELSE 'relief_factor given by the analyst (FTE per 56 post-hours a week)' END AS relief_source
FROM hourly h
CROSS JOIN params p
CROSS JOIN police pol
ORDER BY h.how
