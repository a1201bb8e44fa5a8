"""Human approvals, pure: who must approve a deal and why (routing, margin), who the approvers are
(directory), what they see (summary), the approval record and its deadlines (record), and how
approval links are signed (links). No AWS calls; the store, mailer and handlers apply these.

The package re-exports the names its users take from it; the rest live in their concept's module."""

from handoff.contracts.timestamps import iso  # re-exported: older imports take it from here
from handoff.domain.approvals.directory import ApproverDirectory
from handoff.domain.approvals.links import LinkCheck, approval_link, check_link, sign, signature_kid, verify
from handoff.domain.approvals.margin import MarginUnknown, estimate_margin
from handoff.domain.approvals.record import (
    Approval,
    AuditEntry,
    decision_output,
    escalated_approval,
    new_approval,
    next_action,
    timeout_cause,
    token_digest,
    token_kept_until,
)
from handoff.domain.approvals.routing import ApprovalRequirement, required_approvals
from handoff.domain.approvals.summary import deal_summary, summary_rows
from handoff.domain.approvals.vocabulary import KINDS, PENDING_GSI_PK, ApprovalKind, Contact, Status, human_time

__all__ = [
    "KINDS",
    "PENDING_GSI_PK",
    "Approval",
    "ApprovalKind",
    "ApprovalRequirement",
    "ApproverDirectory",
    "AuditEntry",
    "Contact",
    "LinkCheck",
    "MarginUnknown",
    "Status",
    "approval_link",
    "check_link",
    "deal_summary",
    "decision_output",
    "escalated_approval",
    "estimate_margin",
    "human_time",
    "iso",
    "new_approval",
    "next_action",
    "required_approvals",
    "sign",
    "signature_kid",
    "summary_rows",
    "timeout_cause",
    "token_digest",
    "token_kept_until",
    "verify",
]
