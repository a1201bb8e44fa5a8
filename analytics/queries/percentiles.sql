-- p50 and p90 of every duration by nearest rank: the value at position ceil(p * n) of the n
-- values in ascending order (exact, and the same in DuckDB and Athena).
WITH ranked AS (
  SELECT metric, grp, seconds,
         row_number() OVER (PARTITION BY metric, grp ORDER BY seconds) AS rn,
         count(*) OVER (PARTITION BY metric, grp) AS n
  FROM durations WHERE seconds IS NOT NULL
)
SELECT metric, grp, max(n) AS n,
       max(CASE WHEN rn = CAST(ceil(0.5 * n) AS BIGINT) THEN seconds END) AS p50,
       max(CASE WHEN rn = CAST(ceil(0.9 * n) AS BIGINT) THEN seconds END) AS p90
FROM ranked
GROUP BY metric, grp
ORDER BY metric, grp
