"""The work queue's daily digest: one real email per owner group (text and HTML alternatives, via
handoff.adapters.mailer.render_notice), its open items by priority, overdue ones first."""

from datetime import datetime
from email.message import EmailMessage
from html import escape

from handoff.adapters.mailer import render_notice
from handoff.domain.work_items import GROUP_LABELS, WorkItem, age_text, ranked


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(at: datetime) -> str:
    return at.strftime("%d %b %Y %H:%M UTC")


def render_digest(group: str, to: str, open_items: list[WorkItem], now: datetime, console_url: str = "") -> EmailMessage:
    items = ranked(open_items, now)
    overdue = sum(1 for i in items if i.overdue(now))
    label = GROUP_LABELS.get(group, group)
    subject = f"Work queue for {label}: {len(items)} open item(s)" + (f", {overdue} overdue" if overdue else "")
    link = f"{console_url.rstrip('/')}/queue?group={group}" if console_url else ""
    lines = []
    for n, item in enumerate(items, 1):
        state = "OVERDUE" if item.overdue(now) else f"due {_when(item.due_at)}"
        who = f", claimed by {item.assignee}" if item.assignee else ""
        lines.append(f"{n}. [{item.priority}] {item.title or item.handoff_id}: {item.code}"
                     f"{' at ' + item.field if item.field else ''} ({state}{who}; open {age_text(item.created_at, now)})\n"
                     f"   {item.message}")
    text = (f"Open items of the {label} group on {now.strftime('%d %b %Y')}, highest priority first:\n\n"
            + "\n".join(lines) + (f"\n\nWork the queue: {link}\n" if link else "\n"))
    rows = "".join(
        f"<tr><td>{item.priority}</td><td>{_e(item.title or item.handoff_id)}</td><td>{_e(item.code)}"
        f"{'<br><small>' + _e(item.field) + '</small>' if item.field else ''}</td>"
        f"<td>{'<strong>overdue</strong>' if item.overdue(now) else _e(_when(item.due_at))}</td>"
        f"<td>{_e(item.assignee or 'unclaimed')}</td><td>{_e(item.message)}</td></tr>" for item in items)
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>' + _e(subject) + "</title></head>"
            '<body style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.5">'
            f"<p>Open items of the {_e(label)} group on {_e(now.strftime('%d %b %Y'))}, highest priority first.</p>"
            '<table cellpadding="6" style="border-collapse:collapse"><thead><tr><th scope="col">Priority</th>'
            '<th scope="col">Deal</th><th scope="col">Problem</th><th scope="col">Due</th><th scope="col">Assignee</th>'
            f'<th scope="col">What is wrong</th></tr></thead><tbody>{rows}</tbody></table>'
            + (f'<p><a href="{_e(link)}">Work the queue</a></p>' if link else "") + "</body></html>")
    return render_notice(to, subject, text, html, now=now)
