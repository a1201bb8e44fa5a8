"""The operations console behind API Gateway: server-rendered pages for people (Cognito sign-in,
handoffs, the work queue, my approvals). Machines keep IAM on the operators' API.

GET  /                          -> /handoffs
GET  /handoffs                  list with filters (status, service line, region, text)
GET  /handoffs/{id}             one handoff: timeline chart, exceptions, approvals, billing, staffing, ...
GET  /queue                     the work queue by priority (filters: group, state)
GET  /queue/{itemId}            one item: facts, comments, history, the forms below
POST /queue/{itemId}/claim|comment|resolve|dismiss
GET  /approvals                 my pending approvals; POST /approvals/{approvalId} decides one
GET  /metrics                   the process metrics as charts (filter: serviceLine): DuckDB locally, Athena in AWS
GET  /recovery                  every dead-letter queue (messages waiting) and every quarantined event
POST /recovery/dead-letters/{queue}   redrive that queue (dryRun=true: say what would move, change nothing)
POST /recovery/quarantine       requeue the quarantine, or one `key` (optionally with a corrected `event`, JSON);
                                dryRun=true says what would go; both recovery forms are the platform group's
GET  /login, /auth/callback, /logout   the Cognito hosted UI (authorization code flow with PKCE)

Every page needs a verified session; every POST a CSRF token bound to it; working an item needs
membership of its owner group, recovering membership of the platform group. The recovery forms do
what the operators' recovery API does, through the same builder (handlers/_recovery.py)."""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters import aws, from_settings
from handoff.adapters import console_auth as auth
from handoff.adapters import console_metrics_page as metrics_page
from handoff.adapters import console_pages as pages
from handoff.adapters import console_recovery_page as recovery_page
from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.from_settings import event_bus, store, workflow
from handoff.adapters.handoff_index import DynamoHandoffIndex
from handoff.adapters.handoff_store import is_handoff_id
from handoff.adapters.signing_keys import secret_key
from handoff.adapters.task_callback import TaskCallback
from handoff.domain import work_items as wi
from handoff.domain.errors import HandoffNotFound, IntegrationTransient, ResubmissionRefused
from handoff.domain.redrive import find
from handoff.handlers import _process_metrics
from handoff.handlers import _recovery as recovery
from handoff.handlers._work_queue import items, sync_dead_letters
from handoff.logic import approval_decisions, console_handoffs
from handoff.logic import work_queue as queue
from handoff.logic.retry_handoff import retry_handoff
from handoff.logic.search_handoffs import SearchRefused
from handoff.observability import logger, metrics, tracer
from handoff.ports.metrics import MetricsUnavailable
from handoff.settings import settings

app = APIGatewayRestResolver()

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def _now() -> datetime:
    return datetime.now(UTC)


# --- request plumbing ----------------------------------------------------------------------------------
def _base() -> str:
    """The console's root path: the stage behind API Gateway ("/console"), nothing locally."""
    event = app.current_event
    full = (event.raw_event.get("requestContext") or {}).get("path") or event.path
    return full[: len(full) - len(event.path)].rstrip("/") if full.endswith(event.path) else ""


def _origin() -> str:
    headers = app.current_event.headers
    host = headers.get("Host") or headers.get("host") or ""
    proto = headers.get("X-Forwarded-Proto") or headers.get("x-forwarded-proto") or "https"
    return f"{proto}://{host}"


def _cookies() -> dict[str, str]:
    headers = app.current_event.headers
    return auth.cookies(headers.get("Cookie") or headers.get("cookie"))


def _form() -> dict[str, str]:
    body = app.current_event.decoded_body or ""
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=20).items()}


def _csrf_key() -> bytes:
    return secret_key(settings().console_secret_arn)


def _cognito() -> auth.CognitoConfig:
    return auth.CognitoConfig(region=settings().aws_region, user_pool_id=settings().cognito_user_pool_id,
                              client_id=settings().cognito_client_id, domain=settings().cognito_domain)


def _local() -> bool:
    return settings().console_auth == "local"


def _operator() -> auth.Operator:
    if _local():
        return auth.LOCAL_OPERATOR
    token = _cookies().get(auth.SESSION_COOKIE)
    if not token:
        raise auth.NotSignedIn("no session")
    return auth.verify_id_token(token, _cognito())


def _html(status: int, body: str, headers: dict[str, str] | None = None, cookies: list[str] | None = None) -> Response:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body,
                    headers={**_HEADERS, **(headers or {})}, cookies=cookies or [])


def _redirect(location: str, cookies: list[str] | None = None) -> Response:
    return Response(status_code=303, headers={**_HEADERS, "Location": location}, cookies=cookies or [], body="")


def _page() -> pages.Page:
    operator = _operator()
    return pages.Page(base=_base(), operator=operator, csrf=auth.csrf_token(operator, _csrf_key()))


def _post_page() -> tuple[pages.Page, dict[str, str]]:
    page, form = _page(), _form()
    if not auth.csrf_ok(page.operator, _csrf_key(), form.get("csrf")):
        raise Forbidden("The form expired or did not come from the console: reload the page and try again.")
    return page, form


class Forbidden(Exception):
    pass


# --- sign-in ---------------------------------------------------------------------------------------------
@app.get("/login")
def login() -> Response:
    if _local():
        return _redirect(f"{_base()}/handoffs")
    start = auth.start_login(_cognito(), f"{_origin()}{_base()}/auth/callback")
    return _redirect(start.redirect, [auth.cookie(auth.LOGIN_COOKIE, start.cookie_value, path=f"{_base()}/auth",
                                                  max_age=600)])


@app.get("/auth/callback")
def callback() -> Response:
    event = app.current_event
    token = auth.finish_login(_cognito(), f"{_origin()}{_base()}/auth/callback", event.get_query_string_value("code")
                              or "", event.get_query_string_value("state") or "", _cookies().get(auth.LOGIN_COOKIE, ""))
    operator = auth.verify_id_token(token, _cognito())
    logger.info("signed in", extra={"groups": list(operator.groups)})
    return _redirect(f"{_base()}/handoffs", [
        auth.cookie(auth.SESSION_COOKIE, token, path=f"{_base()}/", max_age=3600),
        auth.cookie(auth.LOGIN_COOKIE, "", path=f"{_base()}/auth", max_age=0)])


@app.get("/logout")
def logout() -> Response:
    cleared = [auth.cookie(auth.SESSION_COOKIE, "", path=f"{_base()}/", max_age=0)]
    if _local():
        return _redirect(f"{_base()}/handoffs")
    return _redirect(auth.logout_url(_cognito(), f"{_origin()}{_base()}/"), cleared)


# --- handoffs --------------------------------------------------------------------------------------------
@app.get("/")
def root() -> Response:
    _operator()
    return _redirect(f"{_base()}/handoffs")


@app.get("/handoffs")
def handoffs() -> Response:
    page = _page()
    event = app.current_event
    filters = {k: (event.get_query_string_value(k) or "").strip()[:100] for k in ("status", "serviceLine", "region", "q")}
    try:
        listing = console_handoffs.search(DynamoHandoffIndex(aws.table(settings().handoff_table)), filters, _now(),
                                          cursor=event.get_query_string_value("cursor"))
    except SearchRefused as refused:
        return _html(400, pages.message_page(page, "Handoffs", f"These filters cannot be used: {refused}"))
    return _html(200, pages.handoffs_page(page, listing.rows, {k: v for k, v in filters.items() if v},
                                          listing.options, _now(), listing.next_cursor))


@app.get("/handoffs/<handoff_id>")
def handoff(handoff_id: str) -> Response:
    page = _page()
    if not is_handoff_id(handoff_id):
        raise HandoffNotFound(handoff_id)
    records = store()
    record = records.record(handoff_id)
    approvals = _approvals().list_for_handoff(handoff_id)
    return _html(200, pages.handoff_page(page, record, records.deal(handoff_id), approvals,
                                         items().for_handoff(handoff_id), _now()))


# --- the work queue --------------------------------------------------------------------------------------
@app.get("/queue")
def work_queue() -> Response:
    page = _page()
    event = app.current_event
    group = event.get_query_string_value("group") or ""
    state = event.get_query_string_value("state") or "open"
    sync_dead_letters()  # the console reads the dead-letter queues; it never consumes them
    groups = (group,) if group in wi.OWNER_GROUPS else wi.OWNER_GROUPS
    found = items().open_items(groups) if state != "closed" else items().closed_items(groups)
    return _html(200, pages.queue_page(page, wi.ranked(found, _now()), {"group": group, "state": state}, _now()))


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
    return _html(status, pages.item_page(page, item, _handoff_status(item), _now(), error=error, redrive=redrive))


@app.get("/queue/<item_id>")
def item(item_id: str) -> Response:
    return _item_page(_page(), _item(item_id))


def _owner(page: pages.Page, found: wi.WorkItem) -> None:
    if not page.operator.member_of(found.owner_group):
        raise Forbidden(f"Only members of the {wi.GROUP_LABELS[found.owner_group]} group can work this item.")


@app.post("/queue/<item_id>/<action>")
def act(item_id: str, action: str) -> Response:
    page, form = _post_page()
    found, now, actor = _item(item_id), _now(), page.operator.email
    back = f"{page.base}/queue/{item_id}"
    if action == "comment":
        queue.comment(items(), item_id, actor, form.get("text", ""), now)
        return _redirect(back)
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
        return _html(404, pages.message_page(page, "Not found", "No such action."))
    metrics.add_metric(name=f"WorkItem{action.title()}", unit=MetricUnit.Count, value=1)
    logger.info("work item acted on", extra={"item_id": item_id, "action": action})
    return _redirect(f"{page.base}/queue" if form.get("next") == "queue" else back)


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


# --- my approvals ----------------------------------------------------------------------------------------
def _callback() -> TaskCallback:
    return from_settings.task_callback()


def _approvals() -> ApprovalStore:
    return from_settings.approvals()


def _approvals_page(page: pages.Page, status: int = 200, *, error: str = "", done: str = "") -> Response:
    pending = approval_decisions.mine(_approvals().pending(), page.operator.email, every_approver=_local())
    return _html(status, pages.approvals_page(page, pending, _now(), error=error, done=done))


@app.get("/approvals")
def my_approvals() -> Response:
    return _approvals_page(_page())


@app.post("/approvals/<approval_id>")
def decide(approval_id: str) -> Response:
    page, form = _post_page()
    identity = (app.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    result = approval_decisions.decide(
        _approvals(), _callback(), approval_id, form.get("decision", ""),
        form.get("comment", ""), actor=page.operator.email, verified_by=page.operator.verified_by,
        may_decide_for_anyone=_local(), ip=identity.get("sourceIp"), user_agent=identity.get("userAgent"), now=_now())
    if result.ok:
        metrics.add_metric(name="ApprovalsDecidedInConsole", unit=MetricUnit.Count, value=1)
        return _approvals_page(page, done=result.message)
    return _approvals_page(page, 409 if result.approval else 404, error=result.message)


# --- process metrics -------------------------------------------------------------------------------------
@app.get("/metrics")
def process_metrics() -> Response:
    page = _page()
    report, source = _process_metrics.current()
    line = (app.current_event.get_query_string_value("serviceLine") or "").strip()[:100]
    return _html(200, metrics_page.metrics_page(page, report, source, _now(), line))


@app.exception_handler(MetricsUnavailable)
def _no_metrics(exc: MetricsUnavailable) -> Response:
    logger.warning("process metrics unavailable", extra={"reason": str(exc)})
    return _html(503, pages.message_page(_page(), "Process metrics",
                                         "The metrics could not be computed just now. Try again in a minute."))


# --- recovery: dead letters and the quarantine ------------------------------------------------------------
def _recovery_page(page: pages.Page, status: int = 200, **shown: Any) -> Response:
    quarantined, kept = recovery.quarantined(recovery_page.QUARANTINE_SHOWN)
    return _html(status, recovery_page.recovery_page(page, recovery.listing(), quarantined, kept=kept, **shown))


def _platform(page: pages.Page) -> None:
    if not page.operator.member_of(recovery_page.PLATFORM):
        raise Forbidden("Only members of the Platform group can redrive dead letters or requeue quarantined events.")


def _dry_run(form: dict[str, str]) -> bool:
    value = form.get("dryRun", "").strip().lower()
    if value in ("", "false", "0", "no", "off"):
        return False
    if value in ("true", "1", "yes", "on"):
        return True
    raise recovery.RequestInvalid("dryRun must be true or false", "dryRun")


@app.get("/recovery")
def recovery_overview() -> Response:
    return _recovery_page(_page())


@app.post("/recovery/dead-letters/<queue>")
def redrive_dead_letters(queue: str) -> Response:
    page, form = _post_page()
    _platform(page)
    queues = recovery.queues()
    found = find(queues, queue)
    if found is None:
        return _html(404, pages.message_page(page, "Not found", f"There is no dead-letter queue {queue!r}; the queues "
                                                                f"are {', '.join(q.name for q in queues)}."))
    dry_run = _dry_run(form)
    report = recovery.redrive_queue(found, dry_run=dry_run, actor=f"console:{page.operator.email}")
    logger.info("dead letters redriven from the console", extra={
        "queue": found.name, "dry_run": dry_run, "count": report.count, "redriven": len(report.redriven),
        "failed": len(report.failed), "operator": page.operator.email})
    if not dry_run:
        metrics.add_metric(name="DeadLettersRedriven", unit=MetricUnit.Count, value=len(report.redriven))
    return _recovery_page(page, redrive=report.to_json_dict())


@app.post("/recovery/quarantine")
def requeue_quarantine() -> Response:
    page, form = _post_page()
    _platform(page)
    dry_run = _dry_run(form)
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
    return _recovery_page(page, requeue=report.to_json_dict())


@app.exception_handler(recovery.RequestInvalid)
def _recovery_refused(exc: recovery.RequestInvalid) -> Response:
    form = _form()
    key = form.get("key", "").strip()
    # Nothing was requeued or redriven; the operator's text comes back in its form, nothing typed is lost.
    return _recovery_page(_page(), 422, error=f"Nothing was done: {exc.field}: {exc}",
                          drafts={key: form.get("event", "")} if key else None)


# --- errors ------------------------------------------------------------------------------------------------
@app.exception_handler(auth.NotSignedIn)
def _not_signed_in(exc: auth.NotSignedIn) -> Response:
    logger.info("not signed in", extra={"reason": str(exc)})
    if app.current_event.http_method == "GET" and not _local():
        return _redirect(f"{_base()}/login")
    return _html(401, pages.bare_page("Sign in", "Your session has ended. Sign in again."))


@app.exception_handler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    return _html(403, pages.bare_page("Not allowed", str(exc)))


@app.exception_handler(HandoffNotFound)
def _no_handoff(exc: HandoffNotFound) -> Response:
    return _html(404, pages.bare_page("Not found", "There is no such handoff."))


@app.exception_handler(queue.ItemNotFound)
def _no_item(exc: queue.ItemNotFound) -> Response:
    return _html(404, pages.bare_page("Not found", "There is no such work item."))


def _refused(message: str) -> Response:
    event = app.current_event
    item_id = (event.path_parameters or {}).get("item_id") or event.path.split("/")[2]
    return _item_page(_page(), _item(item_id), 409, message)


@app.exception_handler(wi.WorkItemError)
def _not_allowed_now(exc: wi.WorkItemError) -> Response:
    return _refused(str(exc))


@app.exception_handler(queue.CorrectionInvalid)
def _bad_correction(exc: queue.CorrectionInvalid) -> Response:
    fields = "; ".join(f"{p.get('field')}: {p.get('message')}" for p in exc.problems[:5])
    return _refused(f"Nothing was resubmitted: {exc}" if not fields else f"Nothing was resubmitted: {fields}")


@app.exception_handler(ResubmissionRefused)
def _resubmission_refused(exc: ResubmissionRefused) -> Response:
    return _refused(f"Nothing was resubmitted: {exc}")


@app.exception_handler(IntegrationTransient)
def _bus_down(exc: IntegrationTransient) -> Response:
    if app.current_event.path.startswith("/recovery"):
        logger.warning("recovery request not completed", extra={"error": str(exc)})
        return _recovery_page(_page(), 503, error="A service did not take the request. What was done is listed "
                                                  "below (a dry run shows what is left); try again.")
    return _refused("The event bus did not take the resubmission; nothing changed, try again.")


@app.exception_handler(NotFoundError)
def _no_route(exc: NotFoundError) -> Response:
    return _html(404, pages.bare_page("Not found", "There is no such page."))


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.error("console request failed", exc_info=exc)
    return _html(500, pages.bare_page("Something went wrong", "The console could not answer. Try again."))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
