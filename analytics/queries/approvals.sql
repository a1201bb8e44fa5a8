-- Approvals by kind: requested, decided, and timed out (EXPIRED: no answer after reminder and escalation).
SELECT approval_kind AS kind,
       sum(CASE WHEN kind = 'approval_requested' THEN 1 ELSE 0 END) AS requested,
       sum(CASE WHEN kind = 'approval_decided' AND decision = 'APPROVED' THEN 1 ELSE 0 END) AS approved,
       sum(CASE WHEN kind = 'approval_decided' AND decision = 'REJECTED' THEN 1 ELSE 0 END) AS rejected,
       sum(CASE WHEN kind = 'approval_decided' AND decision = 'EXPIRED' THEN 1 ELSE 0 END) AS timed_out,
       sum(CASE WHEN kind = 'approval_escalated' THEN 1 ELSE 0 END) AS escalated
FROM facts
WHERE kind IN ('approval_requested', 'approval_decided', 'approval_escalated')
GROUP BY approval_kind
ORDER BY approval_kind
