-- title: Eligibility waterfall by scenario and call category
-- answers: For each category of calls from the public, where do calls drop out under each scenario?
-- One row per (scenario, category, outcome); shares are of the category's calls from the public.
SELECT e.scenario,
       COALESCE(c.category, '(unmapped)') AS category,
       e.reason AS outcome,
       count(*) AS calls,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY e.scenario, COALESCE(c.category, '(unmapped)')), 1) AS pct_of_category,
       CAST(round(sum(e.p_eligible)) AS BIGINT) AS eligible_estimate
FROM eligibility e
JOIN calls c ON c.call_id = e.call_id
WHERE e.outcome <> 'excluded_self_initiated'
GROUP BY e.scenario, COALESCE(c.category, '(unmapped)'), e.reason
ORDER BY e.scenario, category, calls DESC, outcome
