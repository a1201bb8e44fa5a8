"""The console's recovery page: every dead-letter queue and the quarantine, redriven and requeued by
the platform group through the operators' recovery use cases (handlers/_recovery.py)."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import console_pages as pages
from handoff.adapters import console_recovery_page as recovery_page
from handoff.domain.redrive import find
from handoff.handlers import _console_request as req
from handoff.handlers import _recovery as recovery
from handoff.observability import logger, metrics

router = Router()


def overview(page: pages.Page, status: int = 200, **shown: Any) -> Response:
    quarantined, kept = recovery.quarantined(recovery_page.QUARANTINE_SHOWN)
    return req.html(status, recovery_page.recovery_page(page, recovery.listing(), quarantined, kept=kept, **shown))


def _platform(page: pages.Page) -> None:
    if not page.operator.member_of(recovery_page.PLATFORM):
        raise req.Forbidden("Only members of the Platform group can redrive dead letters or requeue quarantined events.")


@router.get("/recovery")
def recovery_overview() -> Response:
    return overview(req.page())


@router.post("/recovery/dead-letters/<queue>")
def redrive_dead_letters(queue: str) -> Response:
    page, form = req.post_page()
    _platform(page)
    queues = recovery.queues()
    found = find(queues, queue)
    if found is None:
        return req.html(404, pages.message_page(page, "Not found", f"There is no dead-letter queue {queue!r}; the "
                                                                   f"queues are {', '.join(q.name for q in queues)}."))
    dry_run = recovery.dry_run(form.get("dryRun", ""))
    report = recovery.redrive_queue(found, dry_run=dry_run, actor=f"console:{page.operator.email}")
    logger.info("dead letters redriven from the console", extra={
        "queue": found.name, "dry_run": dry_run, "count": report.count, "redriven": len(report.redriven),
        "failed": len(report.failed), "operator": page.operator.email})
    if not dry_run:
        metrics.add_metric(name="DeadLettersRedriven", unit=MetricUnit.Count, value=len(report.redriven))
    return overview(page, redrive=report.to_json_dict())


@router.post("/recovery/quarantine")
def requeue_quarantine() -> Response:
    page, form = req.post_page()
    _platform(page)
    dry_run = recovery.dry_run(form.get("dryRun", ""))
    key, text = form.get("key", "").strip() or None, form.get("event", "")
    event = None
    if text.strip():
        try:
            event = json.loads(text)
        except json.JSONDecodeError as exc:
            raise recovery.RequestInvalid(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                                          "event") from None
    report = recovery.requeue_quarantine(dry_run=dry_run, key=key, event=event)
    logger.info("quarantine requeued from the console", extra={
        "dry_run": dry_run, "key": key, "corrected": event is not None, "requeued": len(report.requeued),
        "still_invalid": len(report.still_invalid), "operator": page.operator.email})
    return overview(page, requeue=report.to_json_dict())


@router.exception_handler(recovery.RequestInvalid)
def _recovery_refused(exc: recovery.RequestInvalid) -> Response:
    form = req.form()
    key = form.get("key", "").strip()
    # Nothing was requeued or redriven; the operator's text comes back in its form, nothing typed is lost.
    return overview(req.page(), 422, error=f"Nothing was done: {exc.field}: {exc}",
                    drafts={key: form.get("event", "")} if key else None)
