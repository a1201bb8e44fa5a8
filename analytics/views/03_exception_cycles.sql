-- Each raised exception with the first resolution of the same exception (handoff, code, field,
-- step) at or after it; resolved_ts is NULL while it is still open.
CREATE OR REPLACE VIEW exception_cycles AS
SELECT r.handoff_id, r.fact_id, r.code, r.severity, COALESCE(r.owner_group, 'unassigned') AS owner_group,
       r.ts AS raised_ts, min(s.ts) AS resolved_ts
FROM facts r
LEFT JOIN facts s
  ON s.kind = 'exception_resolved' AND s.handoff_id = r.handoff_id AND s.code = r.code
 AND COALESCE(s.field, '') = COALESCE(r.field, '') AND COALESCE(s.step, '') = COALESCE(r.step, '')
 AND s.ts >= r.ts
WHERE r.kind = 'exception_raised'
GROUP BY r.handoff_id, r.fact_id, r.code, r.severity, COALESCE(r.owner_group, 'unassigned'), r.ts
