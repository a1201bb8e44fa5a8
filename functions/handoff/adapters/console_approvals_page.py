"""The console's "my approvals": the signed-in approver's pending approvals, each with its decision
form."""

from datetime import datetime
from typing import Any

from handoff.adapters.console_pages import Page, e, layout, when
from handoff.domain.approvals import summary_rows


def approvals_page(page: Page, approvals: list[Any], now: datetime, *, error: str = "", done: str = "") -> str:
    parts = []
    if done:
        parts.append(f'<p class="note" role="status">{e(done)}</p>')
    if error:
        parts.append(f'<p class="error" role="alert">{e(error)}</p>')
    for a in approvals:
        rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in summary_rows(a.deal_summary))
        checks = "".join(f"<li>{e(c)}</li>" for c in a.checklist)
        fields = (f'<label for="c-{e(a.approval_id)}">Comment (required to reject)</label>'
                  f'<textarea id="c-{e(a.approval_id)}" name="comment" rows="2"></textarea>'
                  '<div class="actions" style="margin-top:8px">'
                  '<button type="submit" name="decision" value="approve">Approve</button>'
                  '<button type="submit" name="decision" value="reject" class="danger">Reject</button></div>')
        form = page.post_form(f"/approvals/{a.approval_id}", fields, label=f"Decide the {a.kind} approval")
        parts.append(
            f'<section><h2>{e(a.kind.title())} approval: {e(a.deal_summary.get("opportunity", a.handoff_id))}</h2>'
            f"<p>{e(a.reason)}</p><h3>What to check</h3><ol>{checks}</ol><dl>{rows}</dl>"
            f"<p>Due by {e(when(a.expires_at))}; asked of {e(a.approver_name)} ({e(a.approver)}).</p>{form}</section>")
    if not approvals:
        parts.append("<section><p>Nothing waits for your decision.</p></section>")
    return layout(page, "My approvals", "".join(parts), "/approvals")
