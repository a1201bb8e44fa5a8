-- One row per handoff: its dimensions, latest status, times, rounds, blocking exceptions and
-- the latest deal terms and assessment. The base of every metric (docs/metrics.md).
CREATE OR REPLACE VIEW handoffs AS
WITH received AS (
  SELECT handoff_id, max(opportunity_id) AS opportunity_id, max(service_line) AS service_line,
         max(region) AS region, min(ts) AS received_ts,
         max(CASE WHEN synthetic THEN 1 ELSE 0 END) AS synthetic
  FROM facts WHERE kind = 'received' GROUP BY handoff_id
), latest_status AS (
  SELECT handoff_id, status FROM (
    SELECT handoff_id, status, row_number() OVER (PARTITION BY handoff_id ORDER BY seq DESC, ts DESC) AS n
    FROM facts WHERE kind IN ('received', 'status_changed')
  ) s WHERE n = 1
), activated AS (
  SELECT handoff_id, min(ts) AS activated_ts FROM facts WHERE kind = 'activated' GROUP BY handoff_id
), rounds AS (
  SELECT handoff_id, max(fix_round) AS rework FROM facts WHERE kind = 'round_started' GROUP BY handoff_id
), blocking AS (
  SELECT handoff_id, count(*) AS blocking_exceptions FROM facts
  WHERE kind = 'exception_raised' AND severity = 'BLOCKING' GROUP BY handoff_id
), deal AS (
  SELECT * FROM (
    SELECT handoff_id, contract_type, amount, currency, subcontractors, countries, account_country, customer_new,
           payment_terms_days, detail AS clause_titles,
           min(closed_ts) OVER (PARTITION BY handoff_id) AS closed_ts,
           row_number() OVER (PARTITION BY handoff_id ORDER BY seq DESC, ts DESC) AS n
    FROM facts WHERE kind = 'deal'
  ) d WHERE n = 1
), assessed AS (
  SELECT * FROM (
    SELECT handoff_id, margin, margin_floor, clauses,
           row_number() OVER (PARTITION BY handoff_id ORDER BY seq DESC, ts DESC) AS n
    FROM facts WHERE kind = 'assessed'
  ) a WHERE n = 1
)
SELECT r.handoff_id, r.opportunity_id, r.service_line, r.region, r.synthetic, s.status, r.received_ts,
       d.closed_ts, a.activated_ts, COALESCE(k.rework, 0) AS rework,
       COALESCE(b.blocking_exceptions, 0) AS blocking_exceptions,
       d.contract_type, d.amount, d.currency, d.subcontractors, d.countries, d.account_country, d.customer_new,
       d.payment_terms_days, m.margin, m.margin_floor, COALESCE(m.clauses, '') AS clauses,
       CASE WHEN s.status = 'ACTIVATED' AND COALESCE(b.blocking_exceptions, 0) = 0 AND COALESCE(k.rework, 0) = 0
            THEN 1 ELSE 0 END AS first_time_right,
       CASE WHEN COALESCE(b.blocking_exceptions, 0) > 0 THEN 1 ELSE 0 END AS with_exception,
       CASE WHEN COALESCE(k.rework, 0) > 0 THEN 1 ELSE 0 END AS reworked,
       CASE WHEN m.margin IS NOT NULL AND m.margin_floor IS NOT NULL AND m.margin < m.margin_floor
            THEN 1 ELSE 0 END AS margin_at_risk
FROM received r
LEFT JOIN latest_status s ON s.handoff_id = r.handoff_id
LEFT JOIN activated a ON a.handoff_id = r.handoff_id
LEFT JOIN rounds k ON k.handoff_id = r.handoff_id
LEFT JOIN blocking b ON b.handoff_id = r.handoff_id
LEFT JOIN deal d ON d.handoff_id = r.handoff_id
LEFT JOIN assessed m ON m.handoff_id = r.handoff_id
