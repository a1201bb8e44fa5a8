"""Record rejection, approval timeout or failure (the use case handoff.logic.close_handoff)."""

import json

from pydantic import BaseModel

from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic import close_handoff


class StepError(BaseModel):
    Error: str = "Unknown"
    Cause: str = ""


class CloseRequest(HandoffRef):
    outcome: close_handoff.Outcome
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
    status = close_handoff.close(request.handoffId, request.outcome, request.error.Error, message)
    return {"handoffId": request.handoffId, "status": status.value}


handler = step_handler(CloseRequest)(close)
