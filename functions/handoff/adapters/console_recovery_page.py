"""The console's recovery page: every dead-letter queue (where its messages go back to, how many
wait) and every quarantined event (when, what, the fields at fault), with the forms that redrive a
queue or requeue the quarantine (all of it, or one event with a corrected version), each with a dry
run. The forms are shown to members of the platform group only (the handler refuses anyone else);
the last action's outcome is shown on top: what moved, what failed, what is still invalid and why."""

import json
from typing import Any

from handoff.adapters.console_pages import Page, e, layout

PATH = "/recovery"
PLATFORM = "platform"
# The page reads and lists this many quarantined events (the oldest first); a requeue of all takes every one.
QUARANTINE_SHOWN = 100


def _buttons(what: str) -> str:
    return ('<div class="actions" style="margin-top:8px">'
            '<button type="submit" name="dryRun" value="true" class="secondary">Dry run</button>'
            f'<button type="submit" name="dryRun" value="false">{e(what)}</button></div>')


def _form(page: Page, path: str, fields: str, what: str, label: str) -> str:
    return page.post_form(path, fields + _buttons(what), label=label)


def redrive_form(page: Page, queue: str) -> str:
    """Dry run or redrive one queue (also on a dead-letter work item's page)."""
    return _form(page, f"{PATH}/dead-letters/{queue}", "", "Redrive", f"Redrive {queue}")


def _queues(page: Page, queues: list[dict[str, Any]], may: bool) -> str:
    if not queues:
        return "<section><h2>Dead-letter queues</h2><p>No dead-letter queue is configured.</p></section>"
    rows = "".join(
        f'<tr><th scope="row">{e(q["queue"])}<br><span class="note">{e(q["queueName"])}</span></th>'
        f'<td>{e(q["source"])}</td><td>{e(q["destination"])}<br><span class="note">{e(q["method"])}</span></td>'
        f'<td class="num">{e(q["count"])}</td>'
        + (f"<td>{redrive_form(page, q['queue'])}</td>" if may else "") + "</tr>" for q in queues)
    waiting = sum(int(q["count"]) for q in queues)
    return ('<section><h2>Dead-letter queues</h2><div class="scroll"><table><caption class="note">'
            f"{waiting} message(s) waiting in {len(queues)} queue(s)</caption><thead><tr>"
            '<th scope="col">Queue</th><th scope="col">Source</th><th scope="col">Goes back to</th>'
            '<th scope="col" class="num">Waiting</th>' + ('<th scope="col">Action</th>' if may else "")
            + f"</tr></thead><tbody>{rows}</tbody></table></div></section>")


def _event_of(item: dict[str, Any]) -> dict[str, Any]:
    event = item.get("event")
    return event if isinstance(event, dict) else {}


def _problems(problems: Any) -> str:
    listed = [p for p in problems or [] if isinstance(p, dict)]
    return "<ul>" + "".join(f"<li><code>{e(p.get('field'))}</code>: {e(p.get('message'))}</li>"
                            for p in listed) + "</ul>" if listed else "<p>None recorded.</p>"


def _quarantined(page: Page, items: list[dict[str, Any]], kept: int, may: bool, drafts: dict[str, str]) -> str:
    head = "<section><h2>Quarantined events</h2>"
    if not items and not kept:
        return head + "<p>Nothing is quarantined.</p></section>"
    everything = (_form(page, f"{PATH}/quarantine", "", "Requeue every event that now passes",
                        "Requeue the whole quarantine")
                  + '<p class="note">Each event is validated again against the contract as it is now; those that '
                    "pass go on the bus and leave the quarantine, the others stay with why.</p>") if may else ""
    shown = sorted(items, key=lambda i: str(i.get("rejectedAt", "")))
    parts = []
    for n, item in enumerate(shown, 1):
        event = _event_of(item)
        detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
        key = str(item.get("key", ""))
        facts = (f"<dl><dt>Key</dt><dd><code>{e(key)}</code></dd>"
                 f"<dt>Rejected</dt><dd>{e(item.get('rejectedAt', ''))}</dd>"
                 f"<dt>Detail-type</dt><dd>{e(event.get('detail-type', ''))}</dd>"
                 f"<dt>Event id</dt><dd>{e(detail.get('eventId', ''))}</dd>"
                 + ("<dt>Kept</dt><dd>cut to its first part (the event was too large)</dd>"
                    if item.get("truncated") else "")
                 + f"</dl><h4>Fields at fault</h4>{_problems(item.get('problems'))}")
        form = ""
        if may:
            draft = drafts.get(key)
            text = draft if draft is not None else json.dumps(item.get("event"), indent=2, ensure_ascii=False)
            form = ("<details" + (" open" if draft is not None else "") + "><summary>Correct and requeue this event"
                    "</summary>" + _form(
                        page, f"{PATH}/quarantine",
                        f'<input type="hidden" name="key" value="{e(key)}">'
                        f'<label for="q-event-{n}">Corrected event (JSON; leave as it is to validate it again)</label>'
                        f'<textarea id="q-event-{n}" name="event" rows="12" spellcheck="false">{e(text)}</textarea>',
                        "Requeue this event", f"Requeue {key}") + "</details>")
        title = detail.get("eventId") or key
        parts.append(f"<article><h3>{e(title)}</h3>{facts}{form}</article>")
    more = (f'<p class="note">{kept - len(shown)} more not shown (the newest); requeuing all takes them too.</p>'
            if kept > len(shown) else "")
    return (head + f'<p class="note">{kept} event(s) failed their contract and are kept.</p>{everything}'
            + "".join(parts) + more + "</section>")


def _redrive_result(report: dict[str, Any]) -> str:
    queue = e(report["queue"])
    if report.get("dryRun"):
        rows = "".join(
            f"<li><code>{e(m.get('messageId'))}</code> {e(m.get('summary', ''))}"
            + (f" (event {e(m['eventId'])})" if m.get("eventId") else "")
            + (f"; why it is here: {e(m['error'])}" if m.get("error") else "") + "</li>"
            for m in report.get("messages", []))
        return (f"<h2>Dry run of {queue}</h2><p>{e(report['count'])} message(s) waiting would go back to "
                f"{e(report['destination'])}. Nothing was changed.</p>" + (f"<ul>{rows}</ul>" if rows else ""))
    moved = "".join(f"<li><code>{e(m['messageId'])}</code> to {e(m['to'])}</li>" for m in report.get("messages", []))
    failed = "".join(f"<li><code>{e(f['messageId'])}</code>: {e(f['error'])}</li>" for f in report.get("failed", []))
    return (f"<h2>Redrive of {queue}</h2><p>{e(report['redriven'])} message(s) redriven ({e(report['method'])}); "
            f"{len(report.get('failed', []))} failed and stay in the queue; {e(report.get('remaining', 0))} left."
            + (f" SQS move task {e(report['taskHandle'])}." if report.get("taskHandle") else "")
            + (f" {len(report['resolvedItems'])} work item(s) of these messages resolved."
               if report.get("resolvedItems") else "") + "</p>"
            + (f"<h3>Moved</h3><ul>{moved}</ul>" if moved else "")
            + (f"<h3>Failed (still in the queue)</h3><ul>{failed}</ul>" if failed else ""))


def _requeue_result(report: dict[str, Any]) -> str:
    dry = report.get("dryRun")
    requeued = "".join(
        f"<li><code>{e(r['key'])}</code>: {e(r.get('detailType'))} event {e(r.get('eventId'))}"
        + (f", bus event {e(r['busEventId'])}" if r.get("busEventId") else "") + "</li>" for r in report["requeued"])
    invalid = "".join(f"<li><code>{e(s['key'])}</code>{_problems(s.get('problems'))}</li>"
                      for s in report["stillInvalid"])
    verb = "would be requeued" if dry else "requeued"
    return ("<h2>" + ("Dry run of the requeue" if dry else "Requeue") + "</h2>"
            f"<p>{len(report['requeued'])} event(s) {verb}; {len(report['stillInvalid'])} still invalid"
            + (" (they stay in the quarantine)" if report["stillInvalid"] else "")
            + (". Nothing was changed." if dry else ".") + "</p>"
            + (f"<h3>{'Would go' if dry else 'Put on the bus'}</h3><ul>{requeued}</ul>" if requeued else "")
            + (f"<h3>Still invalid, and why</h3><ul>{invalid}</ul>" if invalid else ""))


def recovery_page(page: Page, queues: list[dict[str, Any]], quarantined: list[dict[str, Any]], *, kept: int,
                  redrive: dict[str, Any] | None = None, requeue: dict[str, Any] | None = None, error: str = "",
                  drafts: dict[str, str] | None = None) -> str:
    may = page.operator.member_of(PLATFORM)
    top = ""
    if error:
        top = f'<section><p class="error" role="alert">{e(error)}</p></section>'
    elif redrive or requeue:
        top = ('<section role="status">' + (_redrive_result(redrive) if redrive else "")
               + (_requeue_result(requeue) if requeue else "") + "</section>")
    note = "" if may else ('<section><p class="note">Only members of the Platform group can redrive dead letters '
                           "or requeue quarantined events.</p></section>")
    return layout(page, "Recovery", top + note + _queues(page, queues, may)
                  + _quarantined(page, quarantined, kept, may, drafts or {}), PATH)
