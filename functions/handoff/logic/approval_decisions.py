"""Deciding an approval as a signed-in person (the console's "my approvals"): the same conditional
write and Step Functions callback as the emailed link, with the identity the console verified
recorded in the audit (verifiedBy)."""

from dataclasses import dataclass
from datetime import datetime

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.task_callback import TaskCallback
from handoff.domain.approvals import Approval, decision_output


@dataclass(frozen=True)
class Decided:
    ok: bool
    message: str
    approval: Approval | None = None


def mine(approvals: list[Approval], email: str, *, every_approver: bool = False) -> list[Approval]:
    """The pending approvals this person must decide (locally the operator stands in for everyone)."""
    return [a for a in approvals if every_approver or a.approver.lower() == email.lower()]


def decide(store: ApprovalStore, callback: TaskCallback, approval_id: str, decision: str, comment: str, *,
           actor: str, verified_by: str, may_decide_for_anyone: bool, ip: str | None, user_agent: str | None,
           now: datetime) -> Decided:
    approval = store.get(approval_id)
    if approval is None or not (may_decide_for_anyone or approval.approver.lower() == actor.lower()):
        return Decided(False, "This approval is not waiting for you.")
    status = {"approve": "APPROVED", "reject": "REJECTED"}.get(decision.strip().lower())
    if status is None:
        return Decided(False, "Choose Approve or Reject.", approval)
    comment = comment.strip()[:2000]
    if status == "REJECTED" and not comment:
        return Decided(False, "Please say why you reject: the deal owner needs it to act.", approval)
    result = store.decide(approval_id, status, actor, comment or None, ip, user_agent, now, verified_by=verified_by)
    if not result.won:
        return Decided(False, f"Already {result.approval.status.lower()}; nothing changed.", result.approval)
    decided = result.approval
    try:
        delivery = (callback.succeed(decided, decision_output(decided)) if status == "APPROVED"
                    else callback.fail(decided, "Approval.Rejected", comment))
    except Exception:
        store.undo_decision(decided, now, "Step Functions did not take the decision; the approver may retry")
        return Decided(False, "The workflow did not take the decision; nothing changed, try again.", decided)
    if not delivery.delivered:
        store.expire(decided.approval_id, now, actor=actor, expected_status=decided.status,
                     detail=f"{decided.status.lower()} after the task ended ({delivery.gone_reason})")
        return Decided(False, "The handoff no longer waits for this approval.", decided)
    return Decided(True, f"{decided.kind.title()} approval {status.lower()}.", decided)
