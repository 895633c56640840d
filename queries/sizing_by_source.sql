-- title: Community-responder sizing by where each call's category came from
-- answers: How much of each scenario's eligible count rests on the crosswalk, on the classifier, or on calls whose type is unmapped?
-- param: category_source = all
-- category_source: `crosswalk` (a reviewed row), `classifier` (profiles/classifier_rules.csv),
-- `unmapped` (neither: outcome `unmapped`, never eligible). `all` keeps every source; a single source
-- filters the report to it. Shares are of each scenario's calls from the public (all sources).
WITH e AS (
    SELECT e.scenario, c.category_source, e.outcome, e.eligible, e.estimated, e.p_eligible
    FROM eligibility e JOIN calls c ON c.call_id = e.call_id
),
totals AS (
    SELECT scenario, count(*) FILTER (WHERE outcome <> 'excluded_self_initiated') AS all_public_calls
    FROM e GROUP BY scenario
)
SELECT e.scenario,
       e.category_source,
       count(*) FILTER (WHERE e.outcome <> 'excluded_self_initiated') AS public_calls,
       CAST(round(sum(e.p_eligible)) AS BIGINT) AS eligible_calls,
       round(100.0 * sum(e.p_eligible) / max(t.all_public_calls), 1) AS eligible_pct_of_all_public,
       round(100.0 * count(*) FILTER (WHERE e.outcome <> 'excluded_self_initiated') / max(t.all_public_calls), 1) AS public_calls_pct
FROM e JOIN totals t ON t.scenario = e.scenario
WHERE '${category_source}' = 'all' OR e.category_source = '${category_source}'
GROUP BY e.scenario, e.category_source
ORDER BY e.scenario, e.category_source
