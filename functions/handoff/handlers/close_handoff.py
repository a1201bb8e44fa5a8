"""Record rejection, approval timeout or failure: status, exception, exceptions queue."""

import json
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from handoff.contracts import ExceptionEntry, HandoffStatus
from handoff.handlers._runtime import HandoffRef, exceptions_queue, logger, metrics, now, step_handler, store


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


def close(request: CloseRequest) -> dict:
    message, _ = _cause(request.error)
    store_ = store()
    if request.outcome == "REJECTED":
        status, code = HandoffStatus.REJECTED, None
    elif request.outcome == "APPROVAL_TIMEOUT":
        status, code = HandoffStatus.BLOCKED, "APPROVAL_TIMEOUT"
    else:
        status = HandoffStatus.FAILED
        code = "INTEGRATION_FAILURE" if request.error.Error.startswith("Integration.") else "PROCESSING_FAILURE"
    exceptions = []
    if code:
        exceptions.append(ExceptionEntry(code=code, severity="BLOCKING", step=request.outcome.title(),
                                         message=f"{request.error.Error}: {message}"[:1000]))
    store_.set_exceptions(request.handoffId, "CloseHandoff", exceptions)
    store_.set_status(request.handoffId, status)
    store_.record_step(request.handoffId, "CloseHandoff", status.value, now(), detail=f"{request.error.Error}: {message}"[:500])
    if exceptions:
        exceptions_queue().publish(request.handoffId, status.value, exceptions,
                                   fix_round=store_.state(request.handoffId).rework)
    logger.warning("handoff closed", extra={"handoff_id": request.handoffId, "status": status.value,
                                            "error": request.error.Error})
    metrics.add_metric(name=f"Handoff{status.value.title()}", unit=MetricUnit.Count, value=1)
    return {"handoffId": request.handoffId, "status": status.value}


handler = step_handler(CloseRequest)(close)
