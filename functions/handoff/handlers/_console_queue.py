"""The console's work queue: the queue by priority, one item, and what an operator does with it
(claim, comment, resolve with a resubmission or a retry, dismiss); refusals come back on the item."""

from datetime import datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import console_pages as pages
from handoff.adapters import console_queue_page as queue_page
from handoff.adapters import console_recovery_page as recovery_page
from handoff.adapters.from_settings import event_bus, store, workflow
from handoff.domain import work_items as wi
from handoff.domain.errors import HandoffNotFound, ResubmissionRefused
from handoff.handlers import _console_request as req
from handoff.handlers._work_queue import items, sync_dead_letters
from handoff.logic import work_queue as queue
from handoff.logic.retry_handoff import retry_handoff
from handoff.observability import logger, metrics

router = Router()


@router.get("/queue")
def work_queue() -> Response:
    page = req.page()
    event = router.current_event
    group = event.get_query_string_value("group") or ""
    state = event.get_query_string_value("state") or "open"
    sync_dead_letters()  # the console reads the dead-letter queues; it never consumes them
    groups = (group,) if group in wi.OWNER_GROUPS else wi.OWNER_GROUPS
    found = items().open_items(groups) if state != "closed" else items().closed_items(groups)
    return req.html(200, queue_page.queue_page(page, wi.ranked(found, req.now()), {"group": group, "state": state}, req.now()))


def _item(item_id: str) -> wi.WorkItem:
    found = items().item(item_id) if item_id.startswith("wi-") else None
    if found is None:
        raise queue.ItemNotFound(item_id)
    return found


def _handoff_status(item: wi.WorkItem) -> str | None:
    try:
        return store().status(item.handoff_id) if item.handoff_id else None
    except HandoffNotFound:
        return None


def _item_page(page: pages.Page, item: wi.WorkItem, status: int = 200, error: str = "") -> Response:
    # A dead-lettered message's item: its step is the queue, redriven from here as from the recovery page.
    redrive = (recovery_page.redrive_form(page, item.step) if item.kind == "dead-letter" and item.step
               and page.operator.member_of(recovery_page.PLATFORM) else "")
    return req.html(status, queue_page.item_page(page, item, _handoff_status(item), req.now(), error=error, redrive=redrive))


@router.get("/queue/<item_id>")
def item(item_id: str) -> Response:
    return _item_page(req.page(), _item(item_id))


def _owner(page: pages.Page, found: wi.WorkItem) -> None:
    if not page.operator.member_of(found.owner_group):
        raise req.Forbidden(f"Only members of the {wi.GROUP_LABELS[found.owner_group]} group can work this item.")


@router.post("/queue/<item_id>/<action>")
def act(item_id: str, action: str) -> Response:
    page, form = req.post_page()
    found, now, actor = _item(item_id), req.now(), page.operator.email
    back = f"{page.base}/queue/{item_id}"
    if action == "comment":
        queue.comment(items(), item_id, actor, form.get("text", ""), now)
        return req.redirect(back)
    _owner(page, found)
    if action == "claim":
        queue.claim(items(), item_id, actor, now)
    elif action == "dismiss":
        queue.dismiss(items(), item_id, actor, form.get("reason", ""), now)
    elif action == "resolve":
        note = form.get("note", "")
        if form.get("action") == "resubmit":
            note = _resubmit(found, form) + (f"; {note.strip()}" if note.strip() else "")
        elif form.get("action") == "retry":
            note = _retry(found, page, now) + (f"; {note.strip()}" if note.strip() else "")
        queue.resolve(items(), item_id, actor, note, now)
    else:
        return req.html(404, pages.message_page(page, "Not found", "No such action."))
    metrics.add_metric(name=f"WorkItem{action.title()}", unit=MetricUnit.Count, value=1)
    logger.info("work item acted on", extra={"item_id": item_id, "action": action})
    return req.redirect(f"{page.base}/queue" if form.get("next") == "queue" else back)


def _resubmit(found: wi.WorkItem, form: dict[str, str]) -> str:
    """Resubmit the handoff through the bus (the operators' API's path), corrected when asked."""
    handoff_id = queue.require_handoff(found)
    records = store()
    state, stored = records.state(handoff_id), records.raw_deal(handoff_id)
    field, value, detail = form.get("field", "").strip(), form.get("value", ""), form.get("detail", "")
    if field or detail.strip():
        plan = queue.plan_correction(state, stored, field=field or None, value=value, detail_json=detail)
    else:
        plan = queue.plan_resubmission(state, stored, None)
    event_bus().publish(plan.source, plan.detail_type, plan.detail)
    logger.info("handoff resubmitted from the work queue", extra={"handoff_id": handoff_id, "event_id": plan.event_id,
                                                                   "fix_round": plan.fix_round})
    what = f"{field} = {value.strip()}" if field else ("a corrected detail" if detail.strip() else "the stored deal")
    return f"resubmitted with {what} (fix round {plan.fix_round}, event {plan.event_id})"


def _retry(found: wi.WorkItem, page: pages.Page, now: datetime) -> str:
    """Retry a FAILED handoff from the step that failed (the operators' API's use case), as this operator."""
    started = retry_handoff(queue.require_handoff(found), f"console:{page.operator.email}", store=store(),
                            workflow=workflow(), now=now)
    logger.info("handoff retried from the work queue", extra={"handoff_id": started.handoff_id, "retry": started.retry})
    return f"retried from {started.resume_at} (retry {started.retry}, execution {started.execution_name})"


@router.exception_handler(queue.ItemNotFound)
def _no_item(exc: queue.ItemNotFound) -> Response:
    return req.html(404, pages.bare_page("Not found", "There is no such work item."))


def refused(message: str) -> Response:
    """The item's page again (409) with what was refused and why on top; nothing was changed."""
    event = router.current_event
    item_id = (event.path_parameters or {}).get("item_id") or event.path.split("/")[2]
    return _item_page(req.page(), _item(item_id), 409, message)


@router.exception_handler(wi.WorkItemError)
def _not_allowed_now(exc: wi.WorkItemError) -> Response:
    return refused(str(exc))


@router.exception_handler(queue.CorrectionInvalid)
def _bad_correction(exc: queue.CorrectionInvalid) -> Response:
    fields = "; ".join(f"{p.get('field')}: {p.get('message')}" for p in exc.problems[:5])
    return refused(f"Nothing was resubmitted: {exc}" if not fields else f"Nothing was resubmitted: {fields}")


@router.exception_handler(ResubmissionRefused)
def _resubmission_refused(exc: ResubmissionRefused) -> Response:
    return refused(f"Nothing was resubmitted: {exc}")
