-- Exception cycle time (raised to resolved) by owner group: counts; seconds are in percentiles.sql.
SELECT owner_group, count(*) AS raised, sum(CASE WHEN resolved_ts IS NOT NULL THEN 1 ELSE 0 END) AS resolved
FROM exception_cycles GROUP BY owner_group ORDER BY owner_group
