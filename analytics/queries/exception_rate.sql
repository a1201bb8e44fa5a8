-- Share of handoffs with at least one blocking exception, by service line, region and contract
-- type; by code, the share of all handoffs with a blocking exception of that code.
WITH total AS (SELECT count(*) AS n FROM handoffs)
SELECT 'serviceLine' AS dimension, service_line AS value, count(*) AS handoffs, sum(with_exception) AS with_exception,
       CAST(sum(with_exception) AS DOUBLE) / count(*) AS rate
FROM handoffs GROUP BY service_line
UNION ALL
SELECT 'region', region, count(*), sum(with_exception), CAST(sum(with_exception) AS DOUBLE) / count(*)
FROM handoffs GROUP BY region
UNION ALL
SELECT 'contractType', COALESCE(contract_type, 'unknown'), count(*), sum(with_exception),
       CAST(sum(with_exception) AS DOUBLE) / count(*)
FROM handoffs GROUP BY COALESCE(contract_type, 'unknown')
UNION ALL
SELECT 'code', c.code, max(t.n), count(DISTINCT c.handoff_id), CAST(count(DISTINCT c.handoff_id) AS DOUBLE) / max(t.n)
FROM exception_cycles c CROSS JOIN total t
WHERE c.severity = 'BLOCKING'
GROUP BY c.code
ORDER BY 1, 2
