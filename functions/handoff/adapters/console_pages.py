"""The console's pages: server-rendered HTML, every value escaped (html.escape), nothing loaded
from elsewhere (the style sheet is inline, the chart is inline SVG), one column on a phone,
landmarks, labels and table headers for assistive technology."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any
from urllib.parse import urlencode

from handoff.adapters.console_auth import Operator
from handoff.domain.approvals import summary_rows
from handoff.domain.work_items import GROUP_LABELS, WorkItem, age_text

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9}
a{color:#0645ad}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #ffbf47;outline-offset:2px}
.skip{position:absolute;left:-999px}
.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:2}
header{background:#14213d;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
header a{color:#fff}
header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
header nav a{display:inline-block;padding:10px 4px}
header nav a[aria-current=page]{font-weight:700;text-decoration:underline}
.who{margin-left:auto;font-size:14px}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
section{background:#fff;border:1px solid #d0d4dc;border-radius:6px;padding:12px 16px;margin:0 0 16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:8px;border-bottom:1px solid #d0d4dc;vertical-align:top}
th{background:#eef0f4}
.scroll{overflow-x:auto}
td.num,th.num{text-align:right}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:.85rem;font-weight:600;background:#e1e5ec;color:#1b1b1b}
.ACTIVATED,.resolved{background:#d7f0db;color:#0d4a17}
.BLOCKED,.FAILED,.REJECTED,.overdue{background:#fbdcd9;color:#7a1510}
.AWAITING_APPROVAL,.claimed{background:#fff1c2;color:#5c4300}
.open{background:#dbe7ff;color:#0a2f73}
form.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end}
label{display:block;font-weight:600;font-size:.95rem}
input,select,textarea{font:inherit;padding:8px;border:1px solid #6b7280;border-radius:4px;max-width:100%}
textarea{width:100%;min-height:6rem}
button{font:inherit;font-weight:600;min-height:44px;padding:8px 16px}
button{border-radius:6px;border:1px solid #0b3fa8;background:#0b5fff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b3fa8}
button.danger{background:#a4161a;border-color:#7a1510}
.actions{display:flex;flex-wrap:wrap;gap:12px}
.actions form{margin:0}
.error{background:#fbdcd9;color:#7a1510;padding:8px 12px;border-radius:4px}
.note{color:#4a4f57;font-size:.95rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{font-weight:600}
dd{margin:0}
ol.history{padding-left:1.2rem}
svg{max-width:100%;height:auto}
dl.kpis{grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:8px}
.kpis div{border:1px solid #d0d4dc;border-radius:6px;padding:8px}.kpis dd{font-size:1.3rem;font-weight:700}
figure{margin:0}
@media (max-width:640px){dl{grid-template-columns:1fr}
.who{margin-left:0}
}
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(at: datetime | None) -> str:
    return at.strftime("%d %b %Y %H:%M UTC") if at else ""


def money(value: Decimal | None, currency: str | None) -> str:
    return f"{value:,.2f} {currency}" if value is not None else ""


def seconds(duration: float) -> str:
    if duration < 1:
        return f"{duration * 1000:.0f} ms"
    if duration < 120:
        return f"{duration:.1f} s"
    if duration < 7200:
        return f"{duration / 60:.0f} min"
    return f"{duration / 3600:.1f} h"


def badge(text: str, kind: str | None = None) -> str:
    return f'<span class="badge {e(kind or text)}">{e(text.replace("_", " ").lower())}</span>'


@dataclass(frozen=True)
class Page:
    base: str  # the console's root path ("" locally, "/console" behind API Gateway's stage)
    operator: Operator
    csrf: str

    def url(self, path: str, **query: object) -> str:
        params = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}{path}" + (f"?{urlencode(params)}" if params else "")

    def form(self, path: str, fields: str, button: str, *, style: str = "", label: str = "") -> str:
        aria = f' aria-label="{e(label)}"' if label else ""
        return (f'<form method="post" action="{e(self.url(path))}"{aria}>'
                f'<input type="hidden" name="csrf" value="{e(self.csrf)}">{fields}'
                f'<button type="submit"{" class=" + chr(34) + style + chr(34) if style else ""}>{e(button)}</button></form>')


NAV = (("/handoffs", "Handoffs"), ("/queue", "Work queue"), ("/approvals", "My approvals"), ("/metrics", "Metrics"),
       ("/recovery", "Recovery"))


def layout(page: Page, title: str, body: str, active: str = "") -> str:
    links = "".join(
        f'<li><a href="{e(page.url(path))}"{" aria-current=page" if path == active else ""}>{e(label)}</a></li>'
        for path, label in NAV)
    groups = ", ".join(GROUP_LABELS.get(g, g) for g in page.operator.groups) or "no group"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{e(title)} · Handoff console</title><style>{_CSS}</style></head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><strong>Handoff console</strong><nav aria-label="Main"><ul>{links}</ul></nav>'
        f'<p class="who">{e(page.operator.name)} ({e(groups)})'
        + (f' · <a href="{e(page.url("/logout"))}">Sign out</a>' if page.operator.verified_by == "cognito" else "")
        + f'</p></header><main id="main"><h1>{e(title)}</h1>{body}</main></body></html>')


def message_page(page: Page, title: str, text: str) -> str:
    return layout(page, title, f"<section><p>{e(text)}</p></section>")


def bare_page(title: str, text: str) -> str:
    """For who is not signed in (no navigation)."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main id=\"main\"><h1>{e(title)}</h1>"
            f"<section><p>{e(text)}</p></section></main></body></html>")


# --- handoffs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandoffRow:
    handoff_id: str
    deal: str
    customer: str
    status: str
    service_line: str
    region: str
    value: Decimal | None
    currency: str | None
    received_at: datetime
    rework: int


def _select(name: str, label: str, options: list[str], chosen: str) -> str:
    opts = "".join(f'<option value="{e(o)}"{" selected" if o == chosen else ""}>{e(o or "Any")}</option>'
                   for o in ["", *options])
    return f'<div><label for="f-{e(name)}">{e(label)}</label><select id="f-{e(name)}" name="{e(name)}">{opts}</select></div>'


def handoffs_page(page: Page, rows: list[HandoffRow], filters: dict[str, str], options: dict[str, list[str]],
                  now: datetime, next_cursor: str | None = None) -> str:
    form = (f'<section><form class="filters" method="get" action="{e(page.url("/handoffs"))}" role="search" '
            'aria-label="Filter handoffs">'
            + _select("status", "Status", options.get("status", []), filters.get("status", ""))
            + _select("serviceLine", "Service line", options.get("serviceLine", []), filters.get("serviceLine", ""))
            + _select("region", "Region", options.get("region", []), filters.get("region", ""))
            + f'<div><label for="f-q">Deal or customer</label><input id="f-q" name="q" type="search" '
              f'value="{e(filters.get("q", ""))}"></div><div><button type="submit">Filter</button></div></form></section>')
    body_rows = "".join(
        f'<tr><td><a href="{e(page.url("/handoffs/" + r.handoff_id))}">{e(r.deal)}</a></td><td>{e(r.customer)}</td>'
        f"<td>{badge(r.status)}</td><td>{e(r.service_line)}</td><td>{e(r.region)}</td>"
        f'<td class="num">{e(money(r.value, r.currency))}</td><td>{e(age_text(r.received_at, now))}</td>'
        f'<td class="num">{r.rework}</td></tr>' for r in rows)
    table = ('<section><div class="scroll"><table><caption class="note">'
             f"{len(rows)} handoff(s)</caption><thead><tr>"
             '<th scope="col">Deal</th><th scope="col">Customer</th><th scope="col">Status</th>'
             '<th scope="col">Service line</th><th scope="col">Region</th><th scope="col" class="num">Value</th>'
             '<th scope="col">Age</th><th scope="col" class="num">Fix rounds</th></tr></thead>'
             f"<tbody>{body_rows}</tbody></table></div>"
             + (f'<p><a href="{e(page.url("/handoffs", **filters, cursor=next_cursor))}">Next page</a></p>'
                if next_cursor else "") + "</section>")
    if not rows:
        table = '<section><p>No handoff matches these filters.</p></section>'
    return layout(page, "Handoffs", form + table, "/handoffs")


def timeline_chart(timeline: list[Any], received_at: datetime) -> str:
    """Each step as a bar from where the previous one ended to where it ended: an inline SVG, with
    the same figures in a table below for reading and for screen readers."""
    if not timeline:
        return "<p>No step has run yet.</p>"
    entries = sorted(timeline, key=lambda t: t.at)
    spans, start = [], received_at
    for entry in entries:
        begin = min(start, entry.at)
        spans.append((entry, begin, entry.at))
        start = max(start, entry.at)
    total = max((entries[-1].at - received_at).total_seconds(), 0.001)
    label_w, bar_w, row_h = 230, 400, 26
    height = row_h * len(spans) + 30
    colours = {"SUCCEEDED": "#2e7d32", "ACTIVATED": "#2e7d32", "APPROVED": "#2e7d32", "BLOCKED": "#b3261e",
               "FAILED": "#b3261e", "REJECTED": "#b3261e", "EXPIRED": "#b3261e"}
    bars = []
    for i, (entry, begin, end) in enumerate(spans):
        y = 8 + i * row_h
        x = label_w + bar_w * (begin - received_at).total_seconds() / total
        width = max(2.0, bar_w * (end - begin).total_seconds() / total)
        duration = (end - begin).total_seconds()
        bars.append(f'<text x="0" y="{y + 15}" font-size="12" fill="#1b1b1b">{e(entry.step[:34])}</text>'
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="16" rx="2" '
                    f'fill="{colours.get(entry.status.upper(), "#0b5fff")}"><title>{e(entry.step)}: '
                    f"{e(seconds(duration))}</title></rect>")
    axis = (f'<line x1="{label_w}" y1="{height - 18}" x2="{label_w + bar_w}" y2="{height - 18}" stroke="#4a4f57"/>'
            f'<text x="{label_w}" y="{height - 4}" font-size="11" fill="#1b1b1b">0</text>'
            f'<text x="{label_w + bar_w}" y="{height - 4}" font-size="11" fill="#1b1b1b" text-anchor="end">'
            f"{e(seconds(total))}</text>")
    svg = (f'<svg role="img" aria-labelledby="chart-title" viewBox="0 0 {label_w + bar_w + 10} {height}" '
           f'width="{label_w + bar_w + 10}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="chart-title">Steps and their durations, {e(seconds(total))} from receipt to the last step'
           f"</title>{''.join(bars)}{axis}</svg>")
    rows = "".join(
        f"<tr><td>{e(entry.step)}</td><td>{badge(entry.status)}</td><td>{e(when(entry.at))}</td>"
        f'<td class="num">{e(seconds((end - begin).total_seconds()))}</td><td>{e(entry.detail or "")}</td></tr>'
        for entry, begin, end in spans)
    return (f'<figure style="margin:0">{svg}<figcaption class="note">Bars start where the previous step ended.'
            '</figcaption></figure><div class="scroll"><table><thead><tr><th scope="col">Step</th>'
            '<th scope="col">Status</th><th scope="col">Finished</th><th scope="col" class="num">Took</th>'
            f'<th scope="col">Detail</th></tr></thead><tbody>{rows}</tbody></table></div>')


def _verified(approval: Any) -> str:
    decided = [a for a in approval.audit if a.action in ("approved", "rejected")]
    how = getattr(decided[-1], "verified_by", None) if decided else None
    labels = {"cognito": "Console sign-in (Cognito)", "local": "Local operator (embedded runtime)",
              "code": "One-time code mailed to the approver", "link": "Email link only (not verified)",
              "signed-link": "Signed email link (HMAC)"}
    if not decided:
        return ""
    return labels.get(how or "signed-link", how or "")


def handoff_page(page: Page, record: Any, deal: Any, approvals: list[Any], items: list[WorkItem], now: datetime) -> str:
    opportunity, contract = deal.detail.opportunity, deal.detail.contract
    summary = (
        f"<section><dl><dt>Status</dt><dd>{badge(record.status.value)}</dd>"
        f"<dt>Opportunity</dt><dd>{e(record.opportunity_id)}</dd>"
        f"<dt>Customer</dt><dd>{e(deal.detail.account.legal_name)} ({e(deal.detail.account.country)})</dd>"
        f"<dt>Value</dt><dd>{e(money(contract.value.value, contract.value.currency))}</dd>"
        f"<dt>Service line, region</dt><dd>{e(record.service_line)}, {e(record.region)}</dd>"
        f"<dt>Deal owner</dt><dd>{e(opportunity.owner.name)} ({e(opportunity.owner.email)})</dd>"
        f"<dt>Received</dt><dd>{e(when(record.received_at))} ({e(age_text(record.received_at, now))} ago)</dd>"
        f"<dt>Fix rounds</dt><dd>{record.rework}</dd>"
        + (f"<dt>Activated</dt><dd>{e(when(record.activated_at))} after {e(seconds(record.duration_seconds or 0))}</dd>"
           if record.activated_at else "")
        + (f"<dt>Project</dt><dd>{e(record.project.code)} {e(record.project.name)}, cost center "
           f"{e(record.project.cost_center)}</dd>" if record.project else "")
        + "</dl></section>")
    timeline = f"<section><h2>Timeline</h2>{timeline_chart(record.timeline, record.received_at)}</section>"
    exceptions = "".join(
        f"<tr><td>{e(x.code)}</td><td>{e(x.severity.lower())}</td><td>{e(x.field or x.step)}</td><td>{e(x.message)}</td>"
        f"<td>{e(GROUP_LABELS.get(x.owner_group or '', x.owner_group or ''))}</td></tr>" for x in record.exceptions)
    exceptions_html = ("<section><h2>Exceptions</h2>" + (
        '<div class="scroll"><table><thead><tr><th scope="col">Code</th><th scope="col">Severity</th>'
        '<th scope="col">Where</th><th scope="col">What is wrong</th><th scope="col">Owner</th></tr></thead>'
        f"<tbody>{exceptions}</tbody></table></div>" if exceptions else "<p>None.</p>"))
    if items:
        exceptions_html += "<h3>Work items</h3><ul>" + "".join(
            f'<li><a href="{e(page.url("/queue/" + i.item_id))}">{e(i.code)} {e(i.field or "")}</a> '
            f"{badge(i.state)} {e(GROUP_LABELS.get(i.owner_group, i.owner_group))}</li>" for i in items) + "</ul>"
    exceptions_html += "</section>"
    approval_rows = "".join(
        f"<tr><td>{e(a.kind)}</td><td>{e(a.approver_name)} ({e(a.approver)})</td><td>{badge(a.status)}</td>"
        f"<td>{e(a.decided_by or '')}</td><td>{e(when(a.decided_at))}</td><td>{e(_verified(a))}</td>"
        f"<td>{e(a.comment or '')}</td></tr>" for a in approvals)
    approvals_html = ("<section><h2>Approvals</h2>" + (
        '<div class="scroll"><table><thead><tr><th scope="col">Kind</th><th scope="col">Approver</th>'
        '<th scope="col">Status</th><th scope="col">Decided by</th><th scope="col">When</th>'
        '<th scope="col">Identity verified by</th><th scope="col">Comment</th></tr></thead>'
        f"<tbody>{approval_rows}</tbody></table></div>" if approvals else "<p>None needed or none yet.</p>")
        + "</section>")
    schedule = record.billing_schedule
    billing = "<section><h2>Billing schedule</h2>" + (
        f"<p>{e(schedule.contract_type)}, total {e(money(schedule.total, schedule.currency))}</p>"
        '<div class="scroll"><table><thead><tr><th scope="col" class="num">#</th><th scope="col">Due</th>'
        '<th scope="col">Description</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Tax</th>'
        "</tr></thead><tbody>" + "".join(
            f'<tr><td class="num">{line.seq}</td><td>{e(line.due_date.isoformat() if line.due_date else line.trigger)}'
            f'</td><td>{e(line.description)}</td><td class="num">{e(money(line.amount, schedule.currency))}</td>'
            f'<td class="num">{e(line.tax)}</td></tr>' for line in schedule.lines)
        + "</tbody></table></div>" if schedule else "<p>Not created yet.</p>") + "</section>"
    staffing = "<section><h2>Staffing</h2>" + (
        '<div class="scroll"><table><thead><tr><th scope="col">Role</th><th scope="col" class="num">Hours</th>'
        '<th scope="col">From</th><th scope="col">Location</th><th scope="col">Status</th></tr></thead><tbody>'
        + "".join(f'<tr><td>{e(s.role)}</td><td class="num">{s.hours}</td><td>{e(s.start_date)}</td>'
                  f"<td>{e(s.location)}</td><td>{e(s.status)}</td></tr>" for s in record.staffing_requests)
        + "</tbody></table></div>" if record.staffing_requests else "<p>None yet.</p>") + "</section>"
    requisitions = "<section><h2>Requisitions</h2>" + (
        '<div class="scroll"><table><thead><tr><th scope="col">Vendor</th><th scope="col" class="num">Amount</th>'
        '<th scope="col">Cost center</th><th scope="col">Id</th></tr></thead><tbody>'
        + "".join(f'<tr><td>{e(r.vendor)}</td><td class="num">{e(money(r.amount, r.currency))}</td>'
                  f"<td>{e(r.cost_center)}</td><td>{e(r.requisition_id or '')}</td></tr>"
                  for r in record.purchase_requisitions)
        + "</tbody></table></div>" if record.purchase_requisitions else "<p>None.</p>") + "</section>"
    packet = ("<section><h2>Launch packet</h2>"
              + (f"<p>Stored as <code>{e(record.launch_packet)}</code> and mailed to the delivery leads.</p>"
                 if record.launch_packet else "<p>Not assembled yet.</p>") + "</section>")
    title = f"{opportunity.name}"
    return layout(page, title, summary + timeline + exceptions_html + approvals_html + billing + staffing
                  + requisitions + packet, "/handoffs")


# --- the work queue -----------------------------------------------------------------------------------
def _due(item: WorkItem, now: datetime) -> str:
    if item.overdue(now):
        return badge("overdue") + f" since {e(when(item.due_at))}"
    return e(when(item.due_at)) if item.is_open else ""


def queue_page(page: Page, items: list[WorkItem], filters: dict[str, str], now: datetime) -> str:
    groups = list(GROUP_LABELS)
    form = (f'<section><form class="filters" method="get" action="{e(page.url("/queue"))}" aria-label="Filter the queue">'
            + _select("group", "Owner group", groups, filters.get("group", ""))
            + _select("state", "State", ["open", "closed"], filters.get("state", "open"))
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


# --- my approvals --------------------------------------------------------------------------------------
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
        form = (f'<form method="post" action="{e(page.url("/approvals/" + a.approval_id))}" '
                f'aria-label="Decide the {e(a.kind)} approval"><input type="hidden" name="csrf" value="{e(page.csrf)}">'
                f"{fields}</form>")
        parts.append(
            f'<section><h2>{e(a.kind.title())} approval: {e(a.deal_summary.get("opportunity", a.handoff_id))}</h2>'
            f"<p>{e(a.reason)}</p><h3>What to check</h3><ol>{checks}</ol><dl>{rows}</dl>"
            f"<p>Due by {e(when(a.expires_at))}; asked of {e(a.approver_name)} ({e(a.approver)}).</p>{form}</section>")
    if not approvals:
        parts.append("<section><p>Nothing waits for your decision.</p></section>")
    return layout(page, "My approvals", "".join(parts), "/approvals")

