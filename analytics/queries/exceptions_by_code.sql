-- Exceptions raised (every round counts), by code and severity, with the handoffs they hit and
-- how many were resolved.
SELECT code, severity, count(*) AS raised, count(DISTINCT handoff_id) AS handoffs,
       sum(CASE WHEN resolved_ts IS NOT NULL THEN 1 ELSE 0 END) AS resolved
FROM exception_cycles
GROUP BY code, severity
ORDER BY raised DESC, code, severity
