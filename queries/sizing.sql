-- title: Community-responder sizing by scenario
-- answers: Of the calls from the public (officer-initiated excluded), how many could community responders take under each scenario?
-- Scenarios with an unrecorded caller relationship are estimates: eligible_low counts every
-- unknown caller as third party, eligible_high as first party.
SELECT scenario,
       count(*) FILTER (WHERE outcome <> 'excluded_self_initiated') AS public_calls,
       CAST(round(sum(p_eligible)) AS BIGINT) AS eligible_calls,
       round(100.0 * sum(p_eligible) / count(*) FILTER (WHERE outcome <> 'excluded_self_initiated'), 1) AS eligible_pct,
       count(*) FILTER (WHERE eligible AND NOT estimated) AS eligible_low,
       count(*) FILTER (WHERE eligible) AS eligible_high,
       CASE WHEN bool_or(estimated) THEN 'estimate' ELSE 'count' END AS basis
FROM eligibility
GROUP BY scenario
ORDER BY eligible_calls DESC, scenario
