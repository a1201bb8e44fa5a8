"""The approval pages: plain, accessible HTML that works on a phone with no external assets.
Every interpolated value is escaped; nothing here ever sees the task token."""

from html import escape
from urllib.parse import quote

from handoff.domain.approvals import Approval, Contact, human_time, summary_rows
from handoff.domain.approvals.verification import masked_address

_CSS = (
    "body{font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1b1b;"
    "background:#f6f7f9}main{max-width:40rem;margin:0 auto;padding:1.25rem}"
    "h1{font-size:1.5rem;line-height:1.25}h2{font-size:1.1rem;margin-top:1.5rem}"
    "dl{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}"
    "textarea{width:100%;box-sizing:border-box;min-height:6rem;font:inherit;padding:.5rem}"
    "label{display:block;font-weight:600;margin:1rem 0 .25rem}"
    ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}"
    "button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border-radius:.375rem;border:2px solid #1b1b1b;"
    "cursor:pointer;min-width:9rem}button:focus-visible{outline:3px solid #0b5fff;outline-offset:2px}"
    ".approve{background:#0a6b2e;border-color:#0a6b2e;color:#fff}.reject{background:#fff;color:#a3141d;"
    "border-color:#a3141d}.alert{border-left:4px solid #a3141d;background:#fff;padding:.5rem 1rem}"
    ".note{color:#4a4a4a;font-size:.9rem}"
)

_KIND = {"legal": "Legal", "finance": "Finance", "compliance": "Compliance", "procurement": "Procurement"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n<meta name="referrer" content="no-referrer">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _mail(contact: Contact) -> str:
    return f'{_e(contact.name)} (<a href="mailto:{_e(contact.email)}">{_e(contact.email)}</a>)'


def _summary(approval: Approval) -> str:
    rows = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in summary_rows(approval.deal_summary))
    return f"<dl>{rows}</dl>"


def approval_page(approval: Approval, *, exp: str, sig: str, error: str | None = None, comment: str = "",
                  console_url: str = "") -> str:
    """The request and its decision form; `code`: the form says a code will be mailed; `signin`: no
    form, the approver decides in the console (console_url)."""
    kind = _KIND.get(approval.kind, approval.kind)
    escalated = ""
    if approval.previous_approver:
        escalated = (f'<p class="note">Escalated to you: {_e(approval.previous_approver.name)} did not answer '
                     "in time.</p>")
    alert = f'<p class="alert" role="alert">{_e(error)}</p>' if error else ""
    checks = "".join(f"<li>{_e(item)}</li>" for item in approval.checklist)
    body = f"""<h1>{_e(kind)} approval: {_e(approval.deal_summary.get("opportunity", approval.handoff_id))}</h1>
<p>Hello {_e(approval.approver_name)}, your decision is needed before this deal becomes a project.
Nothing is decided until you press Approve or Reject.</p>
{escalated}
<h2>Why you are asked</h2>
<p>{_e(approval.reason)}</p>
<h2>What to check</h2>
<ol>{checks}</ol>
<h2>The deal</h2>
{_summary(approval)}
<p>Please answer by <strong>{_e(human_time(approval.expires_at))}</strong>.</p>
{alert}
{_decide(approval, exp, sig, comment, console_url)}"""
    return document(f"{kind} approval", body)


def _decide(approval: Approval, exp: str, sig: str, comment: str, console_url: str) -> str:
    verification = approval.verification
    if verification == "signin":
        return signin_block(approval, console_url)
    note = ""
    if verification == "code":
        note = (f'<p class="note">To confirm it is you, pressing Approve or Reject emails a one-time code to '
                f"{_e(masked_address(approval.approver))}; the decision counts once you enter it here.</p>")
    return f"""{note}<form method="post" action="{_e(quote(approval.approval_id, safe=""))}">
<input type="hidden" name="exp" value="{_e(exp)}">
<input type="hidden" name="sig" value="{_e(sig)}">
<label for="comment">Comment (required to reject)</label>
<textarea id="comment" name="comment" maxlength="2000">{_e(comment)}</textarea>
<div class="actions">
<button type="submit" name="decision" value="approve" class="approve">Approve</button>
<button type="submit" name="decision" value="reject" class="reject">Reject</button>
</div>
</form>"""


def signin_block(approval: Approval, console_url: str) -> str:
    where = (f'<p><a href="{_e(console_url)}">Open my approvals in the console</a></p>' if console_url else
             "<p>Open <strong>My approvals</strong> in the operations console.</p>")
    return (f"<h2>Decide in the console</h2>\n<p>This {_e(approval.kind)} approval is decided signed in, as "
            f"{_e(approval.approver)}: this link only shows the request.</p>\n{where}")


def decided_page(approval: Approval) -> str:
    deal = approval.deal_summary.get("opportunity", approval.handoff_id)
    what = f"{_KIND.get(approval.kind, approval.kind).lower()} approval for {deal}"
    if approval.status == "APPROVED":
        return document("Approved, thank you", f"<h1>Approved, thank you</h1>\n<p>Your {_e(what)} is recorded. "
                                               "The handoff continues.</p>")
    return document("Rejection recorded", f"<h1>Rejection recorded</h1>\n<p>Your rejection of the {_e(what)} is "
                                          f"recorded. The handoff stops here and the deal owner, "
                                          f"{_mail(approval.deal_owner)}, will follow up.</p>")


def already_decided_page(approval: Approval) -> str:
    verb = "approved" if approval.status == "APPROVED" else "rejected"
    when = human_time(approval.decided_at) if approval.decided_at else "earlier"
    return document("Already decided", f"<h1>Already decided</h1>\n<p>This request was already {verb} by "
                                       f"{_e(approval.decided_by or 'the approver')} on {_e(when)}. "
                                       "Nothing was changed.</p>")


def tampered_page() -> str:
    return document("This link is not valid", "<h1>This link is not valid</h1>\n<p>The link is incomplete or was "
                                              "changed. Open it again from the approval email, or ask the deal "
                                              "owner to send the request again.</p>")


def expired_page(approval: Approval) -> str:
    """410: who to contact instead (the escalation approver if the request moved on, else the deal owner)."""
    if approval.status == "ESCALATED" and approval.escalation_approver:
        contact = (f"<p>The deadline passed, so the request went to {_mail(approval.escalation_approver)}. "
                   "Contact them if you still want to weigh in.</p>")
    elif approval.status == "PENDING" and approval.level == 0 and approval.escalation_approver:
        contact = (f"<p>The deadline passed; the request is being passed to "
                   f"{_mail(approval.escalation_approver)}. Contact them if you still want to weigh in.</p>")
    else:
        contact = (f"<p>The request timed out without a decision. Contact the deal owner, "
                   f"{_mail(approval.deal_owner)}.</p>")
    return document("This link has expired", f"<h1>This link has expired</h1>\n{contact}")


def task_gone_page(approval: Approval) -> str:
    return document("The workflow is no longer waiting", "<h1>The workflow is no longer waiting</h1>\n<p>The "
                    "approval step for this deal has ended (it timed out or the handoff was stopped), so your "
                    f"decision was not applied. Contact the deal owner, {_mail(approval.deal_owner)}.</p>")


def malformed_page() -> str:
    return document("This request cannot be read", "<h1>This request cannot be read</h1>\n<p>Nothing was "
                                                   "recorded. Open the link again from the approval email and use "
                                                   "the form on its page.</p>")


def unavailable_page() -> str:
    return document("Please try again", "<h1>Please try again</h1>\n<p>Your decision could not be delivered just "
                                        "now, so nothing was recorded. Try again in a minute.</p>")


def error_page() -> str:
    return document("Something went wrong", "<h1>Something went wrong</h1>\n<p>Nothing was recorded. Try again "
                                            "later, or contact the deal owner.</p>")
