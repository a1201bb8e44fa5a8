"""Accept event and register handoff: validate against the contract, quarantine what fails,
register the handoff once per opportunity."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.contracts import ContractError, parse_event
from handoff.handlers._runtime import logger, metrics, now, rejected, step_handler, store


@step_handler(None)
def handler(event: dict) -> dict:
    try:
        parsed = parse_event(event)
    except ContractError as error:
        raise rejected(event, error) from None
    registration = store().register(parsed, event, now())
    logger.info("handoff registered", extra={"handoff_id": registration.handoff_id, "action": registration.action,
                                             "reason": registration.reason})
    metrics.add_metric(name=f"Handoff{registration.action.title()}", unit=MetricUnit.Count, value=1)
    if registration.action == "start":
        business_metrics.handoff_counted("HandoffsStarted", parsed)
    # resumeAt: where a retried handoff continues (a workflow state), null otherwise.
    return {"handoffId": registration.handoff_id, "action": registration.action, "resumeAt": registration.resume_at}
