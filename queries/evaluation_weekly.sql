-- title: Program evaluation: weekly call-level measures per district, before and after each district's launch
-- answers: Week by week, in each district, before and after the program started there, how many eligible-type calls did police handle, how fast was the response, how often did a location call again within 30 days, how many police hours and how many arrests or citations did eligible-type calls take?
-- param: program_start = 2024-06-01
-- param: treated = D1,D3
-- param: start =
-- param: scenario = broad
-- Call-level outcomes only (from the CAD export); no crime-record outcome is measured here.
-- One row per week (Monday-Sunday, local time of receipt) x district: the district x week panel
-- that `callsift evaluate` estimates two-way fixed-effects difference-in-differences on.
-- * start_date: when the program started in the district. `start` (D1:2024-06-01,D3:2024-08-01)
--   gives one date per treated district (staggered starts); when it is empty, every district in
--   `treated` (comma-separated) starts on `program_start`. Districts without a start are the
--   comparison group; calls with no district are left out.
-- * period: post = weeks starting on or after the district's start (comparison districts: the
--   earliest start), pre = weeks ending before it. Launch weeks (a week containing any district's
--   start, unless the program starts that Monday) are left out for every district, so the panel is
--   the same whichever districts are treated (randomisation inference permutes them); weeks the
--   data does not fully cover (first and last) are left out too.
-- * Calls from the public only (officer-initiated excluded). Eligible-type = eligible under
--   `scenario` (for scenarios that depend on the unrecorded caller: could be eligible).
-- * police_eligible_calls: eligible-type calls no community-responder unit attended;
--   police_eligible_pct: their share of the week's eligible-type calls (robust to volume changes).
-- * response_median_min: median minutes received -> first unit on scene of eligible-type calls with
--   both times and 0-1,440 minutes (response_calls of them); response_all_median_min: the same over
--   all calls from the public (spill-over of freed police time).
-- * repeat_calls: eligible-type calls whose location (hundred-block address; never output) had
--   another eligible-type call in the previous 30 days, of repeat_base_calls; null in the first 30
--   days of data (no history to look back on).
-- * police_hours: unit busy time (dispatch -> clear, summed over units) / 60 of police-handled
--   eligible-type calls, over police_hours_calls calls that have busy time.
-- * arrests_citations: eligible-type calls with disposition arrest or citation, of eligible_calls.
WITH bounds AS (
    SELECT CAST(min(received_local) AS DATE) AS first_day, CAST(max(received_local) AS DATE) AS last_day FROM calls
),
params AS (
    SELECT CAST('${program_start}' AS DATE) AS program_start,
           string_to_array(regexp_replace('${treated}', '\s*,\s*', ',', 'g'), ',') AS treated
),
given_starts AS (
    SELECT split_part(s, ':', 1) AS district, CAST(split_part(s, ':', 2) AS DATE) AS start_date
    FROM (SELECT unnest(string_to_array(regexp_replace('${start}', '\s+', '', 'g'), ',')) AS s) g
    WHERE s <> ''
),
pub AS (
    SELECT c.call_id, c.received_at, c.received_local, c.arrived_at, c.address, c.district,
           c.community_responder, c.unit_busy_minutes, c.disposition,
           COALESCE(e.eligible, false) AS eligible,
           (date_part('epoch', c.arrived_at) - date_part('epoch', c.received_at)) / 60.0 AS response_min
    FROM calls c
    LEFT JOIN eligibility e ON e.call_id = c.call_id AND e.scenario = '${scenario}'
    WHERE NOT c.self_initiated AND c.district IS NOT NULL
),
starts AS (
    SELECT d.district,
           CASE WHEN '${start}' <> '' THEN g.start_date
                WHEN array_has(pa.treated, d.district) THEN pa.program_start END AS start_date
    FROM (SELECT DISTINCT district FROM pub) d
    LEFT JOIN given_starts g ON g.district = d.district
    CROSS JOIN params pa
),
first_start AS (
    SELECT min(start_date) AS first_start FROM starts
),
launch_weeks AS (
    SELECT DISTINCT CAST(date_trunc('week', start_date) AS DATE) AS week
    FROM starts
    WHERE start_date IS NOT NULL AND CAST(date_trunc('week', start_date) AS DATE) <> start_date
),
repeats AS (
    SELECT call_id,
           lag(received_at) OVER (PARTITION BY address ORDER BY received_at, call_id) AS previous_at
    FROM pub
    WHERE eligible AND address IS NOT NULL
),
t AS (
    SELECT p.*,
           CAST(date_trunc('week', p.received_local) AS DATE) AS week,
           r.previous_at IS NOT NULL
               AND date_part('epoch', p.received_at) - date_part('epoch', r.previous_at) <= 30 * 86400 AS is_repeat
    FROM pub p
    LEFT JOIN repeats r ON r.call_id = p.call_id
),
weekly AS (
    SELECT week, district,
           count(*) AS public_calls,
           count(*) FILTER (WHERE eligible) AS eligible_calls,
           count(*) FILTER (WHERE eligible AND NOT community_responder) AS police_eligible_calls,
           count(*) FILTER (WHERE eligible AND community_responder) AS responder_eligible_calls,
           median(response_min) FILTER (WHERE eligible AND response_min BETWEEN 0 AND 1440) AS response_median_min,
           count(*) FILTER (WHERE eligible AND response_min BETWEEN 0 AND 1440) AS response_calls,
           median(response_min) FILTER (WHERE response_min BETWEEN 0 AND 1440) AS response_all_median_min,
           count(*) FILTER (WHERE response_min BETWEEN 0 AND 1440) AS response_all_calls,
           count(*) FILTER (WHERE eligible AND is_repeat) AS repeat_calls,
           sum(unit_busy_minutes) FILTER (WHERE eligible AND NOT community_responder) / 60.0 AS police_hours,
           count(*) FILTER (WHERE eligible AND NOT community_responder AND unit_busy_minutes IS NOT NULL) AS police_hours_calls,
           count(*) FILTER (WHERE eligible AND disposition IN ('arrest', 'citation')) AS arrests_citations
    FROM t
    GROUP BY week, district
)
SELECT w.week,
       w.district,
       CASE WHEN s.start_date IS NULL THEN 'comparison' ELSE 'treated' END AS "group",
       s.start_date,
       CASE WHEN w.week >= COALESCE(s.start_date, f.first_start) THEN 'post' ELSE 'pre' END AS period,
       w.public_calls, w.eligible_calls,
       w.police_eligible_calls, w.responder_eligible_calls,
       round(100.0 * w.police_eligible_calls / CAST(NULLIF(w.eligible_calls, 0) AS DOUBLE), 2) AS police_eligible_pct,
       round(w.response_median_min, 2) AS response_median_min, w.response_calls,
       round(w.response_all_median_min, 2) AS response_all_median_min, w.response_all_calls,
       CASE WHEN w.week >= b.first_day + INTERVAL '30' DAY THEN w.repeat_calls END AS repeat_calls,
       CASE WHEN w.week >= b.first_day + INTERVAL '30' DAY THEN w.eligible_calls END AS repeat_base_calls,
       round(COALESCE(w.police_hours, 0.0), 2) AS police_hours, w.police_hours_calls,
       w.arrests_citations, w.eligible_calls AS arrest_base_calls,
       '${scenario}' AS scenario
FROM weekly w
JOIN starts s ON s.district = w.district
CROSS JOIN first_start f
CROSS JOIN bounds b
LEFT JOIN launch_weeks lw ON lw.week = w.week
WHERE w.week >= b.first_day AND w.week + INTERVAL '6' DAY <= b.last_day AND lw.week IS NULL
ORDER BY w.week, w.district
