-- Every measured duration in seconds as (metric, grp, seconds); queries/percentiles.sql ranks them.
CREATE OR REPLACE VIEW durations AS
SELECT 'closedWonToActivated' AS metric, 'all' AS grp, activated_ts - closed_ts AS seconds
FROM handoffs WHERE activated_ts IS NOT NULL AND closed_ts IS NOT NULL
UNION ALL
SELECT 'closedWonToActivated', service_line, activated_ts - closed_ts
FROM handoffs WHERE activated_ts IS NOT NULL AND closed_ts IS NOT NULL
UNION ALL
SELECT 'receivedToActivated', 'all', activated_ts - received_ts FROM handoffs WHERE activated_ts IS NOT NULL
UNION ALL
SELECT 'receivedToActivated', service_line, activated_ts - received_ts FROM handoffs WHERE activated_ts IS NOT NULL
UNION ALL
SELECT 'approval', approval_kind, duration_seconds
FROM facts WHERE kind = 'approval_decided' AND decision IN ('APPROVED', 'REJECTED')
UNION ALL
SELECT 'exceptionCycleByCode', code, resolved_ts - raised_ts FROM exception_cycles WHERE resolved_ts IS NOT NULL
UNION ALL
SELECT 'exceptionCycleByOwner', owner_group, resolved_ts - raised_ts FROM exception_cycles WHERE resolved_ts IS NOT NULL
UNION ALL
SELECT 'softToFirm', 'all', f.ts - p.ts
FROM facts f JOIN (SELECT handoff_id, min(ts) AS ts FROM facts WHERE kind = 'staffing_soft' GROUP BY handoff_id) p
  ON p.handoff_id = f.handoff_id
WHERE f.kind = 'step' AND f.step = 'RequestStaffing' AND f.status = 'SUCCEEDED'
