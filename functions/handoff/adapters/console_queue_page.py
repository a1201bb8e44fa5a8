"""The console's work queue: the open (or closed) items by priority, and one item with its facts,
comments, history and the forms that work it."""

from datetime import datetime

from handoff.adapters.console_pages import Page, badge, e, layout, select, when
from handoff.domain.work_items import GROUP_LABELS, WorkItem


def _due(item: WorkItem, now: datetime) -> str:
    if item.overdue(now):
        return badge("overdue") + f" since {e(when(item.due_at))}"
    return e(when(item.due_at)) if item.is_open else ""


def queue_page(page: Page, items: list[WorkItem], filters: dict[str, str], now: datetime) -> str:
    groups = list(GROUP_LABELS)
    form = (f'<section><form class="filters" method="get" action="{e(page.url("/queue"))}" aria-label="Filter the queue">'
            + select("group", "Owner group", groups, filters.get("group", ""))
            + select("state", "State", ["open", "closed"], filters.get("state", "open"))
            + '<div><button type="submit">Show</button></div></form></section>')
    rows = []
    for item in items:
        claim = ""
        if item.is_open and page.operator.member_of(item.owner_group) and item.assignee != page.operator.email:
            claim = page.form(f"/queue/{item.item_id}/claim", '<input type="hidden" name="next" value="queue">', "Claim",
                              style="secondary",
                              label=f"Claim {item.code} of {item.title}")
        rows.append(
            f'<tr><td class="num">{item.priority}</td><td><a href="{e(page.url("/queue/" + item.item_id))}">'
            f"{e(item.title or item.item_id)}</a></td><td>{e(item.code)}<br><span class=\"note\">{e(item.field or '')}"
            f"</span></td><td>{e(GROUP_LABELS.get(item.owner_group, item.owner_group))}</td><td>{_due(item, now)}</td>"
            f"<td>{badge(item.state)}</td><td>{e(item.assignee or '')}</td><td>{claim}</td></tr>")
    table = ('<section><div class="scroll"><table><caption class="note">' + f"{len(items)} item(s), highest priority first"
             '</caption><thead><tr><th scope="col" class="num">Priority</th><th scope="col">Deal</th>'
             '<th scope="col">Problem</th><th scope="col">Owner group</th><th scope="col">Due</th>'
             '<th scope="col">State</th><th scope="col">Assignee</th><th scope="col">Action</th></tr></thead>'
             f"<tbody>{''.join(rows)}</tbody></table></div></section>") if items else \
        "<section><p>Nothing in the queue for these filters.</p></section>"
    return layout(page, "Work queue", form + table, "/queue")


def item_page(page: Page, item: WorkItem, handoff_status: str | None, now: datetime, *, error: str = "",
              redrive: str = "") -> str:
    """`redrive`: a dead-letter item's form that redrives its queue (console_recovery_page.redrive_form)."""
    mine = page.operator.member_of(item.owner_group)
    facts = (f"<section><dl><dt>Problem</dt><dd>{e(item.code)}{' at ' + e(item.field) if item.field else ''}</dd>"
             f"<dt>What is wrong</dt><dd>{e(item.message)}</dd>"
             f"<dt>Owner group</dt><dd>{e(GROUP_LABELS.get(item.owner_group, item.owner_group))}</dd>"
             f"<dt>Priority</dt><dd>{item.priority}</dd><dt>State</dt><dd>{badge(item.state)}"
             f"{' (' + e(item.resolution) + ')' if item.resolution else ''}</dd>"
             f"<dt>Assignee</dt><dd>{e(item.assignee or 'nobody')}</dd>"
             f"<dt>Raised</dt><dd>{e(when(item.created_at))}, fix round {item.fix_round}</dd>"
             f"<dt>Due</dt><dd>{_due(item, now) or e(when(item.due_at))}</dd>"
             + (f'<dt>Handoff</dt><dd><a href="{e(page.url("/handoffs/" + item.handoff_id))}">{e(item.title)}</a> '
                f"{badge(handoff_status) if handoff_status else ''}</dd>" if item.handoff_id else "")
             + "</dl>"
             + (f"<h2>Dead-lettered message</h2><pre style=\"white-space:pre-wrap;overflow-wrap:anywhere\">"
                f"{e(item.payload[:4000])}</pre>" if item.payload else "") + "</section>")
    error_html = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    actions = ""
    if item.is_open and mine:
        claim = "" if item.assignee == page.operator.email else page.form(
            f"/queue/{item.item_id}/claim", "", "Claim", style="secondary")
        resolve_fields = ('<label for="r-note">Resolution note</label><textarea id="r-note" name="note" '
                          'rows="2"></textarea>')
        blocked = item.handoff_id and handoff_status == "BLOCKED"
        if item.handoff_id and handoff_status == "FAILED":
            resolve_fields += (
                '<fieldset><legend>Act on the handoff</legend>'
                '<div><input type="radio" id="a-none" name="action" value="none" checked> '
                '<label for="a-none" style="display:inline">Only resolve the item</label></div>'
                '<div><input type="radio" id="a-retry" name="action" value="retry"> '
                '<label for="a-retry" style="display:inline">Retry the handoff from the step that failed '
                "(once the cause is fixed)</label></div></fieldset>")
        if blocked:
            resolve_fields += (
                '<fieldset><legend>Act on the handoff</legend>'
                '<div><input type="radio" id="a-none" name="action" value="none" checked> '
                '<label for="a-none" style="display:inline">Only resolve the item</label></div>'
                '<div><input type="radio" id="a-fix" name="action" value="resubmit"> '
                '<label for="a-fix" style="display:inline">Resubmit the deal with this correction</label></div>'
                f'<label for="r-field">Field (in the event\'s detail)</label><input id="r-field" name="field" '
                f'value="{e(item.field or "")}" autocomplete="off">'
                '<label for="r-value">Corrected value</label><input id="r-value" name="value" autocomplete="off">'
                '<label for="r-detail">Or the whole corrected detail (JSON, optional)</label>'
                '<textarea id="r-detail" name="detail" rows="3"></textarea>'
                '<p class="note">Without a field or detail the stored deal is resubmitted as it is (after a playbook '
                "or vendor-list fix).</p></fieldset>")
        actions = (
            f'<section><h2>Work it</h2>{error_html}<div class="actions">{claim}</div>'
            + (f"<h3>Redrive its queue, {e(item.step)}</h3><p class=\"note\">Every message waiting in the queue goes "
               f"back to where it was going (a dry run lists them).</p>{redrive}" if redrive else "")
            + "<h3>Resolve</h3>" + page.form(f"/queue/{item.item_id}/resolve", resolve_fields, "Resolve")
            + "<h3>Dismiss</h3>" + page.form(
                f"/queue/{item.item_id}/dismiss",
                '<label for="d-reason">Reason (required)</label><input id="d-reason" name="reason" required>',
                "Dismiss", style="danger") + "</section>")
    elif item.is_open:
        actions = (f"<section>{error_html}<p>Only members of the "
                   f"{e(GROUP_LABELS.get(item.owner_group, item.owner_group))} group can work this item.</p></section>")
    comments = "".join(f"<li><strong>{e(c.author)}</strong>, {e(when(c.at))}: {e(c.text)}</li>" for c in item.comments)
    comment_form = page.form(f"/queue/{item.item_id}/comment",
                             '<label for="c-text">Comment</label><textarea id="c-text" name="text" rows="2" '
                             "required></textarea>", "Add comment", style="secondary")
    history = "".join(f"<li>{e(when(h.at))}: {e(h.actor)} {e(h.action)}{': ' + e(h.detail) if h.detail else ''}</li>"
                      for h in item.history)
    return layout(page, f"{item.code}: {item.title}"[:120], facts + actions
                  + f"<section><h2>Comments</h2><ul>{comments or '<li>None yet.</li>'}</ul>{comment_form}</section>"
                  + f'<section><h2>History</h2><ol class="history">{history}</ol></section>', "/queue")
