"""Accept event and register handoff: validate against the contract, quarantine what fails,
register the handoff once per opportunity."""

import re
import uuid
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handoff.contracts import ContractError, parse_event
from handoff.domain.errors import EventInvalid
from handoff.handlers._runtime import documents, logger, metrics, now, step_handler, store


def _quarantine_name(event: Any) -> str:
    detail = event.get("detail") if isinstance(event, dict) else None
    event_id = (detail or {}).get("eventId") if isinstance(detail, dict) else None
    name = str(event_id or (event.get("id") if isinstance(event, dict) else None) or uuid.uuid4())
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120]


@step_handler(None)
def handler(event: dict) -> dict:
    try:
        parsed = parse_event(event)
    except ContractError as error:
        location = documents().quarantine(event, error.problems, now(), _quarantine_name(event))
        logger.warning("event rejected", extra={"problems": error.problems, "quarantine": location})
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        raise EventInvalid(f"{error} (kept in {location})") from None
    registration = store().register(parsed, event, now())
    logger.info("handoff registered", extra={"handoff_id": registration.handoff_id, "action": registration.action,
                                             "reason": registration.reason})
    metrics.add_metric(name=f"Handoff{registration.action.title()}", unit=MetricUnit.Count, value=1)
    return {"handoffId": registration.handoff_id, "action": registration.action}
