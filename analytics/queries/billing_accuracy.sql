-- Billing setup accuracy: a handoff's latest schedule is accurate when its lines sum to its total
-- and, for fixed fee, milestone and retainer contracts, the total equals the contract value.
-- Corrections after activation are schedules set again once the handoff was ACTIVATED.
WITH latest AS (
  SELECT * FROM (
    SELECT b.handoff_id, b.amount, b.lines_total, b.contract_type,
           row_number() OVER (PARTITION BY b.handoff_id ORDER BY b.seq DESC, b.ts DESC) AS n
    FROM facts b WHERE b.kind = 'billing_schedule'
  ) x WHERE n = 1
), corrections AS (
  SELECT handoff_id, count(*) AS corrections FROM facts
  WHERE kind = 'billing_schedule' AND outcome = 'CORRECTED_AFTER_ACTIVATION' GROUP BY handoff_id
)
SELECT count(*) AS schedules,
       sum(CASE WHEN CAST(l.lines_total AS DECIMAL(20, 3)) = CAST(l.amount AS DECIMAL(20, 3))
                 AND (l.contract_type NOT IN ('fixed_fee', 'milestone', 'retainer')
                      OR CAST(l.amount AS DECIMAL(20, 3)) = CAST(h.amount AS DECIMAL(20, 3)))
                THEN 1 ELSE 0 END) AS accurate,
       COALESCE(sum(c.corrections), 0) AS corrections_after_activation
FROM latest l
JOIN handoffs h ON h.handoff_id = l.handoff_id
LEFT JOIN corrections c ON c.handoff_id = l.handoff_id
