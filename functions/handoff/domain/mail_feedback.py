"""What a bounced or complained-about email means for a handoff, pure. An approval request that
bounced cannot be answered: without this it would wait in silence until its deadline. A fix
request that bounced leaves the deal owner unaware that the handoff is blocked."""

from dataclasses import dataclass
from typing import Literal

from handoff.contracts import ExceptionEntry
from handoff.contracts.record import ExceptionCode

STEP = "MailFeedback"


@dataclass(frozen=True)
class Outcome:
    timeline_step: str  # one entry per notice: a second bounce of the same notice overwrites it
    timeline_status: Literal["BOUNCED", "COMPLAINED"]
    detail: str
    exception: ExceptionEntry | None  # what operations must handle; None when nothing is stuck


def _who(recipients: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{address} ({diagnostic})" if diagnostic else address for address, diagnostic in recipients)


def assess(notice: str, event_type: Literal["Bounce", "Complaint"], recipients: list[tuple[str, str | None]], *,
           bounce_type: str = "", bounce_sub_type: str = "") -> Outcome | None:
    """`notice` is the tag the email was sent with: `approval-<kind>` (request, reminder or
    escalation), `fix-request-<round>`, `launch-packet`. None for emails of no handoff notice."""
    qualifier = ""
    code: ExceptionCode | None
    if notice.startswith("fix-request"):
        fix_round = notice.removeprefix("fix-request").lstrip("-")
        name = f"fix request (round {int(fix_round) + 1})" if fix_round.isdigit() else "fix request"
        subject, code, step = name, "FIX_REQUEST_EMAIL_BOUNCED", "FixRequestEmail"
    elif notice.startswith("approval-") and len(notice) > len("approval-"):
        qualifier = notice.removeprefix("approval-")
        subject, code, step = f"{qualifier} approval email", "APPROVAL_EMAIL_BOUNCED", f"ApprovalEmail ({qualifier})"
    elif notice == "launch-packet":
        subject, code, step = "launch packet email", None, "LaunchPacketEmail"
    else:
        return None
    who = _who(recipients)
    if event_type == "Complaint":
        return Outcome(f"{step} complaint", "COMPLAINED", f"{who} marked the {subject} as spam", None)
    detail = f"the {subject} to {who} bounced ({bounce_type}, {bounce_sub_type})"
    if code == "APPROVAL_EMAIL_BOUNCED":
        message = (f"The {detail}. Nobody can answer this approval by email: correct the approver's address in the "
                   "approver directory (SSM parameter), then ask the approver to use a working mailbox; until "
                   "then the approval waits for its deadline and escalates.")
        field = f"approvals.{qualifier}.approver"
    elif code == "FIX_REQUEST_EMAIL_BOUNCED":
        message = (f"The {detail}. The deal owner does not know the handoff is blocked: correct the owner's email "
                   "in the CRM and tell them what to fix.")
        field = "opportunity.owner.email"
    else:
        return Outcome(f"{step} bounce", "BOUNCED", detail[0].upper() + detail[1:], None)
    entry = ExceptionEntry(code=code, severity="BLOCKING", step=STEP, field=field, message=message[:1000],
                           owner_group="deal-desk")
    return Outcome(f"{step} bounce", "BOUNCED", detail[0].upper() + detail[1:], entry)
