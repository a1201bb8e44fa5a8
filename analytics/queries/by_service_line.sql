SELECT service_line, count(*) AS handoffs,
       sum(CASE WHEN status = 'ACTIVATED' THEN 1 ELSE 0 END) AS activated,
       sum(CASE WHEN status = 'BLOCKED' THEN 1 ELSE 0 END) AS blocked,
       CAST(sum(first_time_right) AS DOUBLE) / count(*) AS first_time_right,
       CAST(sum(with_exception) AS DOUBLE) / count(*) AS exception_rate,
       CAST(sum(reworked) AS DOUBLE) / count(*) AS rework_rate
FROM handoffs
GROUP BY service_line
ORDER BY service_line
