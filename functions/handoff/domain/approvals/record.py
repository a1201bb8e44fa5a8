"""The approval record and its lifecycle: created with a task token digest, reminded, escalated, decided, expired."""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from handoff.contracts import ClosedWonEvent
from handoff.contracts.timestamps import iso
from handoff.domain.approvals.routing import ApprovalRequirement
from handoff.domain.approvals.summary import deal_summary
from handoff.domain.approvals.verification import DEFAULT_VERIFICATION, Verification
from handoff.domain.approvals.vocabulary import (
    TASK_TIMEOUT_SLACK,
    Action,
    ApprovalKind,
    Contact,
    Status,
    UtcDateTime,
    _Model,
    hours,
)


class AuditEntry(_Model):
    action: str
    at: UtcDateTime
    actor: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    detail: str | None = None
    # decisions: how the actor was verified: link (possession of the link only), code (the one-time
    # code mailed to the approver), cognito (console sign-in), local; signed-link on older entries
    verified_by: str | None = None


class Approval(BaseModel):
    """One approval request as stored (camelCase attributes). Its task token is kept elsewhere (the
    task-token table), named by task_token_ref; an approval stored before that table existed still
    carries task_token, a SecretStr (it prints as '**********'; only the Step Functions callback
    unwraps it)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    approval_id: str
    handoff_id: str
    kind: ApprovalKind
    approver: str
    approver_name: str
    reason: str
    checklist: list[str]
    deal_summary: dict[str, str]
    deal_owner: Contact
    task_token_ref: str | None = None  # the key of its token in the task-token table; escalations share it
    task_token: SecretStr | None = Field(default=None, repr=False)  # only approvals stored before that table
    token_digest: str
    # How a decision is bound to the approver (handoff.domain.approvals.verification); an approval
    # stored before verification existed was decided by its link.
    verification: Verification = "link"
    created_at: UtcDateTime
    expires_at: UtcDateTime
    remind_at: UtcDateTime | None = None
    reminded_at: UtcDateTime | None = None
    mailed_at: UtcDateTime | None = None
    status: Status = "PENDING"
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    comment: str | None = None
    level: int = 0
    fix_round: int = 0  # the handoff's fix round it was requested in: a retry in the round finds it
    escalation_approver: Contact | None = None
    escalated_to: str | None = None
    escalated_from: str | None = None
    previous_approver: Contact | None = None
    remind_before_hours: Decimal = Decimal(12)
    escalation_within_hours: Decimal = Decimal(24)
    audit: list[AuditEntry] = Field(default_factory=list)

    @property
    def contact(self) -> Contact:
        return Contact(name=self.approver_name, email=self.approver)


def token_digest(task_token: str) -> str:
    """Stable, non-reversible reference to a task token (idempotency and log correlation)."""
    return hashlib.sha256(task_token.encode()).hexdigest()[:16]


def remind_time(expires_at: datetime, remind_before: timedelta, now: datetime) -> datetime | None:
    """When to remind, or None if that moment is already past (no reminder right after a request)."""
    at = expires_at - remind_before
    return at if at > now else None


def new_approval(
    approval_id: str, handoff_id: str, requirement: ApprovalRequirement, event: ClosedWonEvent, task_token: str,
    now: datetime, *, fix_round: int = 0,
) -> Approval:
    expires = (now + requirement.respond_within).replace(microsecond=0)  # links carry whole seconds
    owner = event.detail.opportunity.owner
    return Approval(
        approval_id=approval_id, handoff_id=handoff_id, kind=requirement.kind,
        approver=requirement.approver.email, approver_name=requirement.approver.name, reason=requirement.reason,
        checklist=requirement.checklist, deal_summary=deal_summary(event),
        deal_owner=Contact(name=owner.name, email=owner.email), task_token_ref=approval_id,
        token_digest=token_digest(task_token), created_at=now, expires_at=expires, fix_round=fix_round,
        verification=requirement.verification or DEFAULT_VERIFICATION[requirement.kind],
        remind_at=remind_time(expires, requirement.remind_before, now), status="PENDING", level=0,
        escalation_approver=requirement.escalation_approver,
        remind_before_hours=requirement.remind_before_hours,
        escalation_within_hours=requirement.escalation_within_hours,
        audit=[AuditEntry(action="requested", at=now, actor="workflow", detail=f"to {requirement.approver.email}")],
    )


def token_kept_until(approval: Approval) -> datetime:
    """How long the task-token table keeps an approval's token if nobody uses it: past the deadline
    of the last possible level (an escalation) and the task's own timeout slack."""
    return approval.expires_at + hours(approval.escalation_within_hours) + TASK_TIMEOUT_SLACK + timedelta(days=1)


def escalated_approval(old: Approval, new_id: str, now: datetime) -> Approval:
    """The level-1 request that replaces an unanswered one: same task token, new approver and link."""
    to = old.escalation_approver
    if to is None:
        raise ValueError(f"approval {old.approval_id} has no escalation approver")
    expires = (now + hours(old.escalation_within_hours)).replace(microsecond=0)
    return old.model_copy(update={
        "approval_id": new_id, "approver": to.email, "approver_name": to.name, "created_at": now,
        "expires_at": expires, "remind_at": remind_time(expires, hours(old.remind_before_hours), now),
        "reminded_at": None, "mailed_at": None, "status": "PENDING", "level": old.level + 1,
        "escalation_approver": None, "escalated_from": old.approval_id, "escalated_to": None,
        "previous_approver": old.contact,
        "audit": [AuditEntry(action="requested", at=now, actor="sweeper",
                             detail=f"escalated from {old.approver} ({old.approval_id})")],
    })


def next_action(approval: Approval, now: datetime) -> Action | None:
    """Deadline policy: remind once at remindAt; at expiresAt escalate a first-level request (if
    there is someone to escalate to), expire an escalated one."""
    if approval.status != "PENDING":
        return None
    if now >= approval.expires_at:
        return "escalate" if approval.level == 0 and approval.escalation_approver else "expire"
    if approval.remind_at and approval.reminded_at is None and now >= approval.remind_at:
        return "remind"
    return None


def decision_output(approval: Approval) -> dict[str, Any]:
    """What SendTaskSuccess hands back to the state machine."""
    return {
        "decision": approval.status, "approver": approval.decided_by, "comment": approval.comment or "",
        "decidedAt": iso(approval.decided_at) if approval.decided_at else None,
        "kind": approval.kind, "approvalId": approval.approval_id,
    }


def timeout_cause(approval: Approval) -> str:
    who = f"{approval.approver_name} <{approval.approver}>"
    if approval.previous_approver:
        who = f"{approval.previous_approver} nor, after escalation, {who}"
    return (f"The {approval.kind} approval for handoff {approval.handoff_id} was not answered: "
            f"no decision from {who} by {iso(approval.expires_at)}.")
