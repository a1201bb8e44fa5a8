"""The console's "my approvals": the signed-in approver's pending approvals, decided in place."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import console_approvals_page as approvals_page
from handoff.adapters import console_pages as pages
from handoff.adapters import from_settings
from handoff.handlers import _console_request as req
from handoff.logic import approval_decisions
from handoff.observability import metrics

router = Router()


def _approvals_page(page: pages.Page, status: int = 200, *, error: str = "", done: str = "") -> Response:
    pending = approval_decisions.mine(from_settings.approvals().pending(), page.operator.email, every_approver=req.local())
    return req.html(status, approvals_page.approvals_page(page, pending, req.now(), error=error, done=done))


@router.get("/approvals")
def my_approvals() -> Response:
    return _approvals_page(req.page())


@router.post("/approvals/<approval_id>")
def decide(approval_id: str) -> Response:
    page, form = req.post_page()
    identity = (router.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    result = approval_decisions.decide(
        from_settings.approvals(), from_settings.task_callback(), approval_id, form.get("decision", ""),
        form.get("comment", ""), actor=page.operator.email, verified_by=page.operator.verified_by,
        may_decide_for_anyone=req.local(), ip=identity.get("sourceIp"), user_agent=identity.get("userAgent"), now=req.now())
    if result.ok:
        metrics.add_metric(name="ApprovalsDecidedInConsole", unit=MetricUnit.Count, value=1)
        return _approvals_page(page, done=result.message)
    return _approvals_page(page, 409 if result.approval else 404, error=result.message)
