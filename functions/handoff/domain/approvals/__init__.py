"""Human approvals, pure: who must approve a deal and why (routing, margin), who the approvers are
(directory), what they see (summary), the approval record and its deadlines (record), and how
approval links are signed (links). No AWS calls; the store, mailer and handlers apply these."""

from handoff.contracts.timestamps import iso  # re-exported: older imports take it from here
from handoff.domain.approvals.directory import ApproverDirectory, ApproverRoute
from handoff.domain.approvals.links import (
    MAX_LINK_EPOCH,
    LinkCheck,
    approval_link,
    check_link,
    link_expiry,
    sign,
    signature_kid,
    verify,
)
from handoff.domain.approvals.margin import MarginUnknown, estimate_margin
from handoff.domain.approvals.record import (
    Approval,
    AuditEntry,
    decision_output,
    escalated_approval,
    new_approval,
    next_action,
    remind_time,
    timeout_cause,
    token_digest,
    token_kept_until,
)
from handoff.domain.approvals.routing import EEA, ApprovalRequirement, mentions_personal_data, required_approvals
from handoff.domain.approvals.summary import SUMMARY_LABELS, deal_summary, summary_rows
from handoff.domain.approvals.vocabulary import (
    KINDS,
    PENDING_GSI_PK,
    TASK_TIMEOUT_SLACK,
    Action,
    ApprovalKind,
    Contact,
    Status,
    UtcDateTime,
    hours,
    human_time,
)

__all__ = [
    "EEA",
    "KINDS",
    "MAX_LINK_EPOCH",
    "PENDING_GSI_PK",
    "SUMMARY_LABELS",
    "TASK_TIMEOUT_SLACK",
    "Action",
    "Approval",
    "ApprovalKind",
    "ApprovalRequirement",
    "ApproverDirectory",
    "ApproverRoute",
    "AuditEntry",
    "Contact",
    "LinkCheck",
    "MarginUnknown",
    "Status",
    "UtcDateTime",
    "approval_link",
    "check_link",
    "deal_summary",
    "decision_output",
    "escalated_approval",
    "estimate_margin",
    "hours",
    "human_time",
    "iso",
    "link_expiry",
    "mentions_personal_data",
    "new_approval",
    "next_action",
    "remind_time",
    "required_approvals",
    "sign",
    "signature_kid",
    "summary_rows",
    "timeout_cause",
    "token_digest",
    "token_kept_until",
    "verify",
]
