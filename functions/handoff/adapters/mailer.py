"""Approval emails as real MIME messages (multipart/alternative, text and HTML), sent through SES
send_raw_email. An approval email carries exactly one link: the signed approval page, which
decides nothing by itself. Nothing here ever sees the task token."""

import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr
from html import escape
from typing import Any

from botocore.exceptions import ClientError

from handoff.adapters.ses_feedback import MESSAGE_TAGS_HEADER, message_tags
from handoff.domain.approvals import Approval, Contact, human_time, summary_rows
from handoff.domain.errors import MailQuotaExceeded, MailThrottled
from handoff.settings import settings

_KIND = {"legal": "Legal", "finance": "Finance", "compliance": "Compliance", "procurement": "Procurement"}
_STYLE = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.5;color:#1b1b1b"
_BUTTON = ("display:inline-block;background:#0b5fff;color:#ffffff;text-decoration:none;font-weight:600;"
           "padding:12px 20px;border-radius:6px")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _domain(address: str | None) -> str:
    _, email = parseaddr(address or "")
    return email.rpartition("@")[2] or "closed-won-handoff.invalid"


def one_line(text: str) -> str:
    """Header-safe text: line breaks and other controls (a CRM deal name may hold them) become single
    spaces, so a header is never refused nor split into two (header injection)."""
    return " ".join("".join(" " if unicodedata.category(c) in ("Cc", "Cf") and c not in "\u200d" else c
                            for c in text).split())


def render_notice(to: str | Contact, subject: str, text: str, html: str, *, sender: str | None = None,
                  reply_to: str | Contact | None = None, now: datetime | None = None,
                  tags: str | None = None) -> EmailMessage:
    """Any notification: proper headers, a text part and an HTML part. `tags` (message_tags()) name
    the handoff and notice, so SES's bounce and complaint events say which email they are about."""
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = formataddr((one_line(to.name), to.email)) if isinstance(to, Contact) else to
    if reply_to:
        msg["Reply-To"] = (formataddr((one_line(reply_to.name), reply_to.email)) if isinstance(reply_to, Contact)
                           else reply_to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    # RFC 3834: machine-sent; out-of-office replies should not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    if tags:
        msg[MESSAGE_TAGS_HEADER] = tags
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _html(paragraphs: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f'<body style="{_STYLE}"><div style="max-width:640px;margin:0 auto;padding:16px">{paragraphs}'
            "</div></body></html>")


def _request_parts(approval: Approval, link: str, opening: str) -> tuple[str, str]:
    """Text and HTML of a request: what the deal is, why, exactly what to check, one link."""
    rows = summary_rows(approval.deal_summary)
    deadline = human_time(approval.expires_at)
    checks = "\n".join(f"  {i}. {item}" for i, item in enumerate(approval.checklist, 1))
    deal = "\n".join(f"  {label}: {value}" for label, value in rows)
    how = _how_to_decide(approval)
    text = (f"Hello {approval.approver_name},\n\n{opening}\n\nWhy you are asked:\n  {approval.reason}\n\n"
            f"What to check:\n{checks}\n\nThe deal:\n{deal}\n\nPlease answer by {deadline}. Review and decide "
            f"here (opening the page decides nothing; you choose Approve or Reject on it):\n{link}\n"
            + (f"{how}\n" if how else "") + "\n"
            f"Questions about the deal: reply to this email to reach the deal owner, {approval.deal_owner}.\n")
    html = _html(
        f"<p>Hello {_e(approval.approver_name)},</p><p>{_e(opening)}</p>"
        f"<h2 style=\"font-size:17px\">Why you are asked</h2><p>{_e(approval.reason)}</p>"
        f"<h2 style=\"font-size:17px\">What to check</h2><ol>"
        + "".join(f"<li>{_e(item)}</li>" for item in approval.checklist)
        + "</ol><h2 style=\"font-size:17px\">The deal</h2><table role=\"presentation\" cellpadding=\"4\">"
        + "".join(f"<tr><th align=\"left\" valign=\"top\">{_e(label)}</th><td>{_e(value)}</td></tr>"
                  for label, value in rows)
        + f"</table><p>Please answer by <strong>{_e(deadline)}</strong>.</p>"
        f'<p><a href="{_e(link)}" style="{_BUTTON}">Review and decide</a></p>'
        + (f"<p>{_e(how)}</p>" if how else "") +
        "<p style=\"color:#4a4a4a;font-size:13px\">Opening the page decides nothing; you choose Approve or "
        f"Reject on it. Questions about the deal: reply to reach the deal owner, {_e(approval.deal_owner)}.</p>")
    return text, html


def _how_to_decide(approval: Approval) -> str:
    """How the decision is bound to the approver (the directory's verification for the kind)."""
    verification = approval.verification
    if verification == "code":
        return "To confirm it is you, choosing Approve or Reject emails you a one-time code to enter on the page."
    if verification == "signin":
        return ("This approval is decided in the operations console (My approvals), signed in as you; "
                "the link shows the request.")
    return ""


def _subject(prefix: str, approval: Approval) -> str:
    opportunity = approval.deal_summary.get("opportunity", approval.handoff_id)
    return f"{prefix} ({_KIND.get(approval.kind, approval.kind).lower()}): {opportunity}"


def _tags(approval: Approval) -> str:
    return message_tags(approval.handoff_id, f"approval-{approval.kind}")


def _approval_mail(approval: Approval, link: str, opening: str, subject: str, *, sender: str | None,
                   now: datetime | None) -> EmailMessage:
    """A mail asking the approver to decide, through the signed link; replies go to the deal owner."""
    text, html = _request_parts(approval, link, opening)
    return render_notice(approval.contact, _subject(subject, approval), text, html, sender=sender,
                         reply_to=approval.deal_owner, now=now, tags=_tags(approval))


def render_approval_request(approval: Approval, link: str, *, sender: str | None = None,
                            now: datetime | None = None) -> EmailMessage:
    opening = f"A closed-won deal needs your {approval.kind} approval before it becomes a project."
    return _approval_mail(approval, link, opening, "Approval needed", sender=sender, now=now)


def render_reminder(approval: Approval, link: str, *, sender: str | None = None,
                    now: datetime | None = None) -> EmailMessage:
    opening = (f"Reminder: your {approval.kind} approval is still open and is due by "
               f"{human_time(approval.expires_at)}. Without an answer it will be escalated.")
    if approval.level > 0:
        opening = (f"Reminder: this escalated {approval.kind} approval is due by {human_time(approval.expires_at)}. "
                   "Without an answer the handoff stops.")
    return _approval_mail(approval, link, opening, "Reminder: approval needed", sender=sender, now=now)


def render_escalation(approval: Approval, link: str, *, sender: str | None = None,
                      now: datetime | None = None) -> EmailMessage:
    """To the escalation approver, with the new approval's own link."""
    previous = approval.previous_approver
    who = f"{previous.name} <{previous.email}>" if previous else "The first approver"
    opening = f"Escalated to you: {who} did not answer this {approval.kind} approval in time."
    return _approval_mail(approval, link, opening, "Escalated approval", sender=sender, now=now)


def render_escalation_notice(old: Approval, new: Approval, *, sender: str | None = None,
                             now: datetime | None = None) -> EmailMessage:
    """For the first approver: the request moved on and their link no longer works (no link here)."""
    text = (f"Hello {old.approver_name},\n\nThe {old.kind} approval for "
            f"{old.deal_summary.get('opportunity', old.handoff_id)} was not answered by "
            f"{human_time(old.expires_at)}, so it was passed to {new.contact}. The link in the earlier email no "
            "longer works.\n")
    html = _html(f"<p>Hello {_e(old.approver_name)},</p><p>The {_e(old.kind)} approval for "
                 f"{_e(old.deal_summary.get('opportunity', old.handoff_id))} was not answered by "
                 f"{_e(human_time(old.expires_at))}, so it was passed to {_e(new.contact)}. The link in the "
                 "earlier email no longer works.</p>")
    return render_notice(old.contact, _subject("Approval escalated", old), text, html, sender=sender,
                         reply_to=old.deal_owner, now=now)


def as_html(text: str) -> str:
    """A plain-text notice as its HTML alternative: escaped, line breaks kept."""
    return ('<!doctype html><html lang="en"><body><pre style="font-family:inherit;white-space:pre-wrap">'
            f"{_e(text)}</pre></body></html>")


SES_THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})
# SES answers both limits with the code Throttling; only the message tells the daily quota (which
# lasts hours) from the sending rate (which lasts a burst).
SES_DAILY_QUOTA = "daily message quota exceeded"


class Mailer:
    def __init__(self, ses_client: Any, sender: str, configuration_set: str | None = None):
        self._ses = ses_client
        self.sender = sender
        # The stack's configuration set publishes bounces and complaints; the identity may be one
        # the stack did not create, so it is named on every send rather than as the identity's default.
        self.configuration_set = configuration_set or settings().ses_configuration_set or None

    def send(self, msg: EmailMessage) -> str:
        """Send through SES send_raw_email; returns the SES message id."""
        if "From" not in msg:
            msg["From"] = self.sender
            msg.replace_header("Message-ID", make_msgid(domain=_domain(self.sender)))
        recipients = [addr for _, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]
        extra = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        try:
            response = self._ses.send_raw_email(Source=parseaddr(self.sender)[1], Destinations=recipients,
                                                RawMessage={"Data": msg.as_bytes()}, **extra)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in SES_THROTTLED:
                message = exc.response.get("Error", {}).get("Message", "")
                if SES_DAILY_QUOTA in message.lower():
                    raise MailQuotaExceeded(f"SES {code}: {message}") from exc
                # Still over the sending rate after the SDK's retries (a burst): the workflow
                # retries the step for minutes (Mail.Throttled, infra/retry_policies.py).
                raise MailThrottled(f"SES {code}: {message}") from exc
            raise
        return response["MessageId"]
