-- Contract patterns ranked by how much they go with exceptions and margin erosion: for each
-- pattern (contract type, non-standard clause kinds, subcontractors, countries, customer), its
-- handoffs, exception rate, margin-at-risk rate, average margin, and the lift of its exception
-- rate over all handoffs'. Patterns of 3 handoffs or more, ranked by exception rate + margin-at-risk
-- rate, then size.
WITH tagged AS (
  SELECT 'contractType' AS dimension, COALESCE(contract_type, 'unknown') AS pattern, h.* FROM handoffs h
  UNION ALL
  SELECT 'clauses', CASE WHEN clauses = '' THEN 'standard' ELSE clauses END, h.* FROM handoffs h
  UNION ALL
  SELECT 'subcontractors', CASE WHEN COALESCE(subcontractors, 0) > 0 THEN 'with subcontractors' ELSE 'none' END, h.*
  FROM handoffs h
  UNION ALL
  SELECT 'countries', CASE WHEN countries LIKE '%,%' THEN 'multi-country' ELSE 'single country' END, h.* FROM handoffs h
  UNION ALL
  SELECT 'customer', CASE WHEN customer_new THEN 'new customer' ELSE 'existing customer' END, h.* FROM handoffs h
), overall AS (
  SELECT CAST(sum(with_exception) AS DOUBLE) / count(*) AS rate FROM handoffs
), patterns AS (
  SELECT dimension, pattern, count(*) AS handoffs,
         CAST(sum(with_exception) AS DOUBLE) / count(*) AS exception_rate,
         CASE WHEN count(margin) = 0 THEN NULL ELSE CAST(sum(margin_at_risk) AS DOUBLE) / count(margin) END
           AS margin_risk_rate,
         avg(margin) AS avg_margin
  FROM tagged GROUP BY dimension, pattern
  HAVING count(*) >= 3  -- fewer handoffs say nothing about a pattern
)
SELECT p.dimension, p.pattern, p.handoffs, p.exception_rate, p.margin_risk_rate, p.avg_margin,
       CASE WHEN o.rate > 0 THEN p.exception_rate / o.rate END AS exception_lift,
       row_number() OVER (ORDER BY p.exception_rate + COALESCE(p.margin_risk_rate, 0) DESC, p.handoffs DESC,
                                   p.dimension, p.pattern) AS ranking
FROM patterns p CROSS JOIN overall o
ORDER BY ranking
