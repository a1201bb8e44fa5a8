"""Record rejection, approval timeout or failure: status, exception, exceptions queue."""

import json
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from handoff.adapters import business_metrics
from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.contracts import ExceptionEntry, HandoffStatus
from handoff.domain.errors import MasterDataConflict
from handoff.domain.playbooks import DEFAULT_OWNER_GROUPS
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.notices import queue_exceptions_once
from handoff.observability import logger, metrics


class StepError(BaseModel):
    Error: str = "Unknown"
    Cause: str = ""


class CloseRequest(HandoffRef):
    outcome: Literal["REJECTED", "APPROVAL_TIMEOUT", "FAILED"]
    error: StepError = StepError()


def _cause(error: StepError) -> tuple[str, str | None]:
    """Lambda errors arrive as a JSON Cause with errorMessage; others as plain text."""
    try:
        body = json.loads(error.Cause)
        return str(body.get("errorMessage") or error.Cause), body.get("step")
    except (ValueError, AttributeError):
        return error.Cause, None


def failure_code(error: str) -> str:
    """A master-data conflict is the data steward's to resolve; other integration errors are operations'."""
    if error == MasterDataConflict.error_name:
        return "MASTER_DATA_CONFLICT"
    return "INTEGRATION_FAILURE" if error.startswith("Integration.") else "PROCESSING_FAILURE"


def close(request: CloseRequest) -> dict:
    message, _ = _cause(request.error)
    store_ = store()
    if request.outcome == "REJECTED":
        status, code = HandoffStatus.REJECTED, None
    elif request.outcome == "APPROVAL_TIMEOUT":
        status, code = HandoffStatus.BLOCKED, "APPROVAL_TIMEOUT"
    else:
        status = HandoffStatus.FAILED
        code = failure_code(request.error.Error)
    exceptions = []
    if code:
        exceptions.append(ExceptionEntry(code=code, severity="BLOCKING", step=request.outcome.title(),
                                         message=f"{request.error.Error}: {message}"[:1000],
                                         owner_group=DEFAULT_OWNER_GROUPS.get(code)))
    store_.set_exceptions(request.handoffId, "CloseHandoff", exceptions)
    store_.set_status(request.handoffId, status)
    store_.record_step(request.handoffId, "CloseHandoff", status.value, now(), detail=f"{request.error.Error}: {message}"[:500])
    if exceptions:  # once per outcome, fix round and retry: a retried step finds them queued
        rework, retries = store_.state(request.handoffId).rework, store_.retries(request.handoffId)
        # A FAILED handoff is brought back by a retry once its cause is fixed: the work item says so.
        resolution = {"action": "retry", "route": f"POST /handoffs/{request.handoffId}/retry"} \
            if status is HandoffStatus.FAILED else None
        queue_exceptions_once(request.handoffId, f"{request.outcome.lower()}#{rework}#{retries}", status.value,
                              exceptions, owner=exceptions[0].owner_group, resolution=resolution,
                              fix_round=rework)
    logger.warning("handoff closed", extra={"handoff_id": request.handoffId, "status": status.value,
                                            "error": request.error.Error})
    metrics.add_metric(name=f"Handoff{status.value.title()}", unit=MetricUnit.Count, value=1)
    if status is HandoffStatus.FAILED:
        business_metrics.handoff_counted("HandoffsFailed", store_.deal(request.handoffId))
    elif status is HandoffStatus.BLOCKED:
        business_metrics.handoff_counted("HandoffsBlocked", store_.deal(request.handoffId))
    return {"handoffId": request.handoffId, "status": status.value}


handler = step_handler(CloseRequest)(close)
