"""Accept event and register handoff: validate against the contract, quarantine what fails,
register the handoff once per opportunity."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.contracts import ContractError, parse_event
from handoff.handlers._step import step_handler
from handoff.logic.quarantine import rejected
from handoff.observability import logger, metrics


@step_handler(None)
def handler(payload: dict) -> dict:
    # The workflow passes {"event", "executionId"}: a retry of this step in the same execution then
    # finds its own registration instead of taking the event for a duplicate. A bare event is
    # accepted too (direct invocations).
    event, execution_id = ((payload["event"], payload.get("executionId"))
                           if set(payload) <= {"event", "executionId"} and isinstance(payload.get("event"), dict)
                           else (payload, None))
    try:
        parsed = parse_event(event)
    except ContractError as error:
        raise rejected(event, error) from None
    registration = store().register(parsed, event, now(), execution_id=execution_id)
    logger.info("handoff registered", extra={"handoff_id": registration.handoff_id, "action": registration.action,
                                             "reason": registration.reason})
    metrics.add_metric(name=f"Handoff{registration.action.title()}", unit=MetricUnit.Count, value=1)
    if registration.action == "start":
        business_metrics.handoff_counted("HandoffsStarted", parsed)
    # resumeAt: where a retried handoff continues (a workflow state), null otherwise.
    return {"handoffId": registration.handoff_id, "action": registration.action, "resumeAt": registration.resume_at}
