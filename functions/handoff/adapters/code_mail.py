"""The one-time code email (approvals verified by `code`): sent to the approver's address from the
directory when someone holding the approval link chooses Approve or Reject. It carries the code and
no link, so the email alone decides nothing and a forwarded approval link alone decides nothing."""

from datetime import datetime
from email.message import EmailMessage
from html import escape

from handoff.adapters.mailer import render_notice
from handoff.adapters.ses_feedback import message_tags
from handoff.domain.approvals import Approval, human_time

_VERB = {"APPROVED": "Approve", "REJECTED": "Reject"}
_STYLE = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.5;color:#1b1b1b"


def spaced(code: str) -> str:
    """123 456: easier to read and type; the page accepts it with or without the space."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


def render_decision_code(approval: Approval, code: str, decision: str, expires_at: datetime, *,
                         ip: str | None = None, sender: str | None = None, now: datetime | None = None) -> EmailMessage:
    deal = approval.deal_summary.get("opportunity", approval.handoff_id)
    verb = _VERB.get(decision, decision)
    where = f" from {ip}" if ip else ""
    text = (f"Hello {approval.approver_name},\n\nSomeone{where} chose \"{verb}\" on the {approval.kind} approval for "
            f"{deal}. To confirm it is you, enter this code on the approval page:\n\n    {spaced(code)}\n\n"
            f"The code works once, until {human_time(expires_at)}.\n\nIf this was not you, do not share the code: "
            f"someone else holds your approval link. Nothing is decided without the code. Tell the deal owner, "
            f"{approval.deal_owner}.\n")
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="{_STYLE}">'
            f'<div style="max-width:640px;margin:0 auto;padding:16px"><p>Hello {escape(approval.approver_name)},</p>'
            f"<p>Someone{escape(where)} chose &ldquo;{escape(verb)}&rdquo; on the {escape(approval.kind)} approval "
            f"for {escape(deal)}. To confirm it is you, enter this code on the approval page:</p>"
            f'<p style="font-size:28px;font-weight:700;letter-spacing:4px">{escape(spaced(code))}</p>'
            f"<p>The code works once, until {escape(human_time(expires_at))}.</p>"
            "<p style=\"color:#4a4a4a;font-size:13px\">If this was not you, do not share the code: someone else "
            "holds your approval link. Nothing is decided without the code. Tell the deal owner, "
            f"{escape(str(approval.deal_owner))}.</p></div></body></html>")
    subject = f"Your confirmation code ({approval.kind} approval): {deal}"
    return render_notice(approval.contact, subject, text, html, sender=sender, now=now,
                         tags=message_tags(approval.handoff_id, f"approval-{approval.kind}"))
