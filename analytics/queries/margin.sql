-- Estimated margin by service line: handoffs with an estimate, average and lowest margin, and
-- how many fall below their playbook's finance floor (margin risk).
SELECT service_line, count(*) AS handoffs, count(margin) AS estimated, avg(margin) AS avg_margin,
       min(margin) AS min_margin, sum(margin_at_risk) AS at_risk,
       CASE WHEN count(margin) = 0 THEN NULL ELSE CAST(sum(margin_at_risk) AS DOUBLE) / count(margin) END AS at_risk_rate
FROM handoffs GROUP BY service_line ORDER BY service_line
