"""The pages of verified decisions: where the approver enters the one-time code mailed to them, and
what a link answers when the decision needs sign-in. Escaped, no external assets, like pages.py."""

from html import escape
from urllib.parse import quote

from handoff.adapters.pages import document, signin_block
from handoff.domain.approvals import Approval, human_time
from handoff.domain.approvals.verification import CODE_DIGITS, CodeChallenge, masked_address

_KIND = {"legal": "Legal", "finance": "Finance", "compliance": "Compliance", "procurement": "Procurement"}
_VERB = {"APPROVED": "Approve", "REJECTED": "Reject"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def code_page(approval: Approval, challenge: CodeChallenge, *, exp: str, sig: str, error: str = "") -> str:
    """Enter the code; or ask for a new one (the same decision and comment again)."""
    kind = _KIND.get(approval.kind, approval.kind)
    deal = approval.deal_summary.get("opportunity", approval.handoff_id)
    verb = _VERB[challenge.decision]
    action = _e(quote(approval.approval_id, safe=""))
    alert = f'<p class="alert" role="alert">{_e(error)}</p>' if error else ""
    link = f'<input type="hidden" name="exp" value="{_e(exp)}">\n<input type="hidden" name="sig" value="{_e(sig)}">'
    comment = (f"<p>Your comment: {_e(challenge.comment)}</p>" if challenge.comment else "")
    body = f"""<h1>Confirm it is you</h1>
<p>You chose <strong>{_e(verb)}</strong> on the {_e(kind.lower())} approval for {_e(deal)}.
We emailed a {CODE_DIGITS}-digit code to {_e(masked_address(approval.approver))}.
Nothing is decided until you enter it.</p>
{comment}
{alert}
<form method="post" action="{action}">
{link}
<label for="code">Code from the email</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required
 pattern="[0-9 ]{{{CODE_DIGITS},{CODE_DIGITS + 1}}}" maxlength="{CODE_DIGITS + 1}" aria-describedby="code-help"
 style="font:inherit;font-size:1.5rem;letter-spacing:.2em;padding:.5rem;width:10ch">
<p id="code-help" class="note">It works once, until {_e(human_time(challenge.expires_at))}.</p>
<div class="actions"><button type="submit" class="approve">Confirm {_e(verb.lower())}</button></div>
</form>
<form method="post" action="{action}">
{link}
<input type="hidden" name="decision" value="{_e(verb.lower())}">
<input type="hidden" name="comment" value="{_e(challenge.comment or "")}">
<p class="note">No email? Check the spam folder, or
<button type="submit" class="reject" style="min-width:0;padding:.25rem .75rem">send a new code</button></p>
</form>"""
    return document(f"{kind} approval: enter your code", body)


def code_refused_page(title: str, message: str) -> str:
    """A code that cannot decide (expired, used, too many attempts, none asked for): what to do next."""
    return document(title, f"<h1>{_e(title)}</h1>\n<p>{_e(message)}</p>\n<p>Nothing was decided. Open the link "
                           "from the approval email again and choose Approve or Reject to get a new code.</p>")


def signin_required_page(approval: Approval, console_url: str) -> str:
    return document("Sign in to decide", "<h1>Sign in to decide</h1>\n<p>Nothing was decided.</p>\n"
                    + signin_block(approval, console_url))
