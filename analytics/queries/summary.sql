-- Handoffs in the report, how many are synthetic, first-time-right and rework rate (0..1).
SELECT count(*) AS handoffs,
       sum(synthetic) AS synthetic,
       sum(CASE WHEN status = 'ACTIVATED' THEN 1 ELSE 0 END) AS activated,
       CASE WHEN count(*) = 0 THEN NULL ELSE CAST(sum(first_time_right) AS DOUBLE) / count(*) END AS first_time_right,
       CASE WHEN count(*) = 0 THEN NULL ELSE CAST(sum(with_exception) AS DOUBLE) / count(*) END AS exception_rate,
       CASE WHEN count(*) = 0 THEN NULL ELSE CAST(sum(reworked) AS DOUBLE) / count(*) END AS rework_rate,
       min(received_ts) AS first_received_ts, max(received_ts) AS last_received_ts
FROM handoffs
