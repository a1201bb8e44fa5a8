"""The console's handoff pages: the list (filters, a page at a time) and one handoff in full, with
its timeline as an inline SVG chart."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from handoff.adapters.console_pages import Page, badge, e, layout, money, seconds, select, when
from handoff.domain.work_items import GROUP_LABELS, WorkItem, age_text


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


def handoffs_page(page: Page, rows: list[HandoffRow], filters: dict[str, str], options: dict[str, list[str]],
                  now: datetime, next_cursor: str | None = None) -> str:
    form = (f'<section><form class="filters" method="get" action="{e(page.url("/handoffs"))}" role="search" '
            'aria-label="Filter handoffs">'
            + select("status", "Status", options.get("status", []), filters.get("status", ""))
            + select("serviceLine", "Service line", options.get("serviceLine", []), filters.get("serviceLine", ""))
            + select("region", "Region", options.get("region", []), filters.get("region", ""))
            + f'<div><label for="f-q">Deal or customer</label><input id="f-q" name="q" type="search" '
              f'value="{e(filters.get("q", ""))}"></div><div><button type="submit">Filter</button></div></form></section>')
    body_rows = "".join(
        f'<tr><td><a href="{e(page.url("/handoffs/" + r.handoff_id))}">{e(r.deal)}</a></td><td>{e(r.customer)}</td>'
        f"<td>{badge(r.status)}</td><td>{e(r.service_line)}</td><td>{e(r.region)}</td>"
        f'<td class="num">{e(money(r.value, r.currency))}</td><td class="nowrap">{e(age_text(r.received_at, now))}</td>'
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
