-- title: Eligibility waterfall by scenario
-- answers: Starting from all calls, how many are removed at each step (officer-initiated, hours/area, too little information, each disqualifier, scope, each limitation) and how many remain eligible?
-- param: scenario = all
-- Steps follow the policy's outcome order; remaining_pct is the share of calls from the public.
-- For scenarios whose eligibility is estimated (caller not recorded), the eligible row's calls is
-- the point estimate and eligible_low / eligible_high its bounds.
WITH t AS (
    SELECT scenario, outcome, reason, count(*) AS calls, sum(p_eligible) AS p,
           count(*) FILTER (WHERE eligible AND NOT estimated) AS low, count(*) FILTER (WHERE eligible) AS high
    FROM eligibility
    WHERE '${scenario}' = 'all' OR scenario = '${scenario}'
    GROUP BY scenario, outcome, reason
),
staged AS (
    SELECT *,
           CASE outcome
               WHEN 'excluded_self_initiated' THEN 1 WHEN 'out_of_hours' THEN 2 WHEN 'out_of_area' THEN 3
               WHEN 'unmapped' THEN 4 WHEN 'insufficient_info' THEN 5 WHEN 'disqualified' THEN 6
               WHEN 'out_of_scope' THEN 7 WHEN 'limited' THEN 8 ELSE 9 END AS stage
    FROM t
),
totals AS (
    SELECT scenario, sum(calls) AS all_calls,
           sum(calls) FILTER (WHERE outcome <> 'excluded_self_initiated') AS public_calls
    FROM t GROUP BY scenario
),
steps AS (
    SELECT s.scenario, s.stage, s.reason,
           CASE WHEN s.outcome = 'eligible' THEN 'eligible' ELSE 'minus ' || s.reason END AS step,
           CASE WHEN s.outcome = 'eligible' THEN CAST(round(s.p) AS BIGINT) ELSE s.calls END AS calls,
           CASE WHEN s.outcome = 'eligible' THEN s.p
                ELSE tt.all_calls - sum(s.calls) OVER (PARTITION BY s.scenario ORDER BY s.stage, s.reason ROWS UNBOUNDED PRECEDING) END AS remaining,
           tt.public_calls,
           CASE WHEN s.outcome = 'eligible' THEN s.low END AS eligible_low,
           CASE WHEN s.outcome = 'eligible' THEN s.high END AS eligible_high
    FROM staged s JOIN totals tt ON tt.scenario = s.scenario
    UNION ALL
    SELECT scenario, 0, '', 'all calls', all_calls, CAST(all_calls AS DOUBLE), public_calls, NULL, NULL FROM totals
    UNION ALL
    -- Calls eligible only if an unrecorded fact (e.g. who called) falls their way: the expected share removed.
    SELECT s.scenario, 8, '~', 'minus estimated (unrecorded caller)', CAST(round(s.high - s.p) AS BIGINT), s.p, tt.public_calls, NULL, NULL
    FROM staged s JOIN totals tt ON tt.scenario = s.scenario
    WHERE s.outcome = 'eligible' AND s.high > s.low
)
SELECT scenario, step, calls, CAST(round(remaining) AS BIGINT) AS remaining,
       CASE WHEN stage = 0 THEN NULL ELSE round(100.0 * remaining / public_calls, 1) END AS remaining_pct,
       eligible_low, eligible_high
FROM steps
ORDER BY scenario, stage, reason
