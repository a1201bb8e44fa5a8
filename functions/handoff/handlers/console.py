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
what the operators' recovery API does, through the same builder (handlers/_recovery.py).

This module is the Lambda entry, sign-in, the metrics page and the errors every page shares; each
other kind of page is a Powertools Router of its own (_console_handoffs, _console_queue,
_console_approvals, _console_recovery) over the request plumbing in _console_request."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters import console_auth as auth
from handoff.adapters import console_metrics_page as metrics_page
from handoff.adapters import console_pages as pages
from handoff.domain.errors import HandoffNotFound, IntegrationTransient
from handoff.handlers import _console_approvals as approvals
from handoff.handlers import _console_handoffs as handoffs
from handoff.handlers import _console_queue as work_queue
from handoff.handlers import _console_recovery as recovery
from handoff.handlers import _console_request as req
from handoff.handlers import _process_metrics
from handoff.observability import logger, metrics, tracer
from handoff.ports.metrics import MetricsUnavailable

app = APIGatewayRestResolver()
for pages_of_one_kind in (handoffs, work_queue, approvals, recovery):
    app.include_router(pages_of_one_kind.router)


# --- sign-in ---------------------------------------------------------------------------------------------
@app.get("/login")
def login() -> Response:
    if req.local():
        return req.redirect(f"{req.base()}/handoffs")
    start = auth.start_login(req.cognito(), f"{req.origin()}{req.base()}/auth/callback")
    return req.redirect(start.redirect, [auth.cookie(auth.LOGIN_COOKIE, start.cookie_value,
                                                     path=f"{req.base()}/auth", max_age=600)])


@app.get("/auth/callback")
def callback() -> Response:
    event = app.current_event
    token = auth.finish_login(req.cognito(), f"{req.origin()}{req.base()}/auth/callback",
                              event.get_query_string_value("code") or "", event.get_query_string_value("state") or "",
                              req.cookies().get(auth.LOGIN_COOKIE, ""))
    operator = auth.verify_id_token(token, req.cognito())
    logger.info("signed in", extra={"groups": list(operator.groups)})
    return req.redirect(f"{req.base()}/handoffs", [
        auth.cookie(auth.SESSION_COOKIE, token, path=f"{req.base()}/", max_age=3600),
        auth.cookie(auth.LOGIN_COOKIE, "", path=f"{req.base()}/auth", max_age=0)])


@app.get("/logout")
def logout() -> Response:
    cleared = [auth.cookie(auth.SESSION_COOKIE, "", path=f"{req.base()}/", max_age=0)]
    if req.local():
        return req.redirect(f"{req.base()}/handoffs")
    return req.redirect(auth.logout_url(req.cognito(), f"{req.origin()}{req.base()}/"), cleared)


# --- process metrics -------------------------------------------------------------------------------------
@app.get("/metrics")
def process_metrics() -> Response:
    page = req.page()
    report, source = _process_metrics.current()
    line = (app.current_event.get_query_string_value("serviceLine") or "").strip()[:100]
    return req.html(200, metrics_page.metrics_page(page, report, source, req.now(), line))


@app.exception_handler(MetricsUnavailable)
def _no_metrics(exc: MetricsUnavailable) -> Response:
    logger.warning("process metrics unavailable", extra={"reason": str(exc)})
    return req.html(503, pages.message_page(req.page(), "Process metrics",
                                            "The metrics could not be computed just now. Try again in a minute."))


# --- errors ------------------------------------------------------------------------------------------------
@app.exception_handler(auth.NotSignedIn)
def _not_signed_in(exc: auth.NotSignedIn) -> Response:
    logger.info("not signed in", extra={"reason": str(exc)})
    if app.current_event.http_method == "GET" and not req.local():
        return req.redirect(f"{req.base()}/login")
    return req.html(401, pages.bare_page("Sign in", "Your session has ended. Sign in again."))


@app.exception_handler(req.Forbidden)
def _forbidden(exc: req.Forbidden) -> Response:
    return req.html(403, pages.bare_page("Not allowed", str(exc)))


@app.exception_handler(HandoffNotFound)
def _no_handoff(exc: HandoffNotFound) -> Response:
    return req.html(404, pages.bare_page("Not found", "There is no such handoff."))


@app.exception_handler(IntegrationTransient)
def _bus_down(exc: IntegrationTransient) -> Response:
    if app.current_event.path.startswith("/recovery"):
        logger.warning("recovery request not completed", extra={"error": str(exc)})
        return recovery.overview(req.page(), 503, error="A service did not take the request. What still waits is "
                                                        "listed below (a dry run says what would go); try again.")
    return work_queue.refused("The event bus did not take the resubmission; nothing changed, try again.")


@app.exception_handler(NotFoundError)
def _no_route(exc: NotFoundError) -> Response:
    return req.html(404, pages.bare_page("Not found", "There is no such page."))


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.error("console request failed", exc_info=exc)
    return req.html(500, pages.bare_page("Something went wrong", "The console could not answer. Try again."))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
