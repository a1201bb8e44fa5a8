-- Calls to each system of record and how many failed (every attempt counts, retries included).
SELECT system, count(*) AS calls, sum(CASE WHEN outcome = 'FAILED' THEN 1 ELSE 0 END) AS failures,
       CAST(sum(CASE WHEN outcome = 'FAILED' THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS failure_rate
FROM facts WHERE kind = 'system_call'
GROUP BY system ORDER BY system
