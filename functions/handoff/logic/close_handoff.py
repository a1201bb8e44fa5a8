"""Closing a handoff the workflow could not finish: a rejection, an approval that timed out (the deal
goes back to BLOCKED) or a failure. The outcome gives the status and the exception; the exception
goes to the exceptions queue once per outcome, fix round and retry."""

from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.contracts import ExceptionEntry, HandoffStatus
from handoff.domain.errors import MasterDataConflict
from handoff.domain.playbooks import DEFAULT_OWNER_GROUPS
from handoff.logic.notices import queue_exceptions_once
from handoff.observability import logger, metrics

Outcome = Literal["REJECTED", "APPROVAL_TIMEOUT", "FAILED"]
STEP = "CloseHandoff"


def failure_code(error: str) -> str:
    """A master-data conflict is the data steward's to resolve; other integration errors are operations'."""
    if error == MasterDataConflict.error_name:
        return "MASTER_DATA_CONFLICT"
    return "INTEGRATION_FAILURE" if error.startswith("Integration.") else "PROCESSING_FAILURE"


def outcome_status(outcome: Outcome, error: str) -> tuple[HandoffStatus, str | None]:
    """The handoff's status after the outcome, and the code of the exception it records (none for a rejection)."""
    if outcome == "REJECTED":
        return HandoffStatus.REJECTED, None
    if outcome == "APPROVAL_TIMEOUT":
        return HandoffStatus.BLOCKED, "APPROVAL_TIMEOUT"
    return HandoffStatus.FAILED, failure_code(error)


def close(handoff_id: str, outcome: Outcome, error: str, message: str) -> HandoffStatus:
    status, code = outcome_status(outcome, error)
    records = store()
    exceptions = []
    if code:
        exceptions.append(ExceptionEntry(code=code, severity="BLOCKING", step=outcome.title(),
                                         message=f"{error}: {message}"[:1000],
                                         owner_group=DEFAULT_OWNER_GROUPS.get(code)))
    records.set_exceptions(handoff_id, STEP, exceptions)
    records.set_status(handoff_id, status)
    records.record_step(handoff_id, STEP, status.value, now(), detail=f"{error}: {message}"[:500])
    if exceptions:  # once per outcome, fix round and retry: a retried step finds them queued
        rework, retries = records.state(handoff_id).rework, records.retries(handoff_id)
        # A FAILED handoff is brought back by a retry once its cause is fixed: the work item says so.
        resolution = {"action": "retry", "route": f"POST /handoffs/{handoff_id}/retry"} \
            if status is HandoffStatus.FAILED else None
        queue_exceptions_once(handoff_id, f"{outcome.lower()}#{rework}#{retries}", status.value,
                              exceptions, owner=exceptions[0].owner_group, resolution=resolution,
                              fix_round=rework)
    logger.warning("handoff closed", extra={"handoff_id": handoff_id, "status": status.value, "error": error})
    metrics.add_metric(name=f"Handoff{status.value.title()}", unit=MetricUnit.Count, value=1)
    if status is HandoffStatus.FAILED:
        business_metrics.handoff_counted("HandoffsFailed", records.deal(handoff_id))
    elif status is HandoffStatus.BLOCKED:
        business_metrics.handoff_counted("HandoffsBlocked", records.deal(handoff_id))
    return status
