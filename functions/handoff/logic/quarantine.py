"""An event that fails its contract is kept, with the fields at fault, in S3 quarantine, and
reported by a named error; handoff.logic.requeue_quarantine brings it back once fixed."""

import re
import uuid
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters.from_settings import documents
from handoff.clock import now
from handoff.contracts import ContractError
from handoff.domain.errors import EventInvalid
from handoff.observability import logger, metrics


def _quarantine_name(event: Any) -> str:
    detail = event.get("detail") if isinstance(event, dict) else None
    event_id = (detail or {}).get("eventId") if isinstance(detail, dict) else None
    name = str(event_id or (event.get("id") if isinstance(event, dict) else None) or uuid.uuid4())
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120]


def quarantine(raw_event: Any, error: ContractError) -> str:
    """Keep the event (named by its eventId: a redelivery overwrites, never adds); returns where it is."""
    location = documents().quarantine(raw_event, error.problems, now(), _quarantine_name(raw_event))
    logger.warning("event rejected", extra={"problems": error.problems, "quarantine": location})
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
    return location


def rejected(event: Any, error: ContractError) -> EventInvalid:
    """Quarantine an event that fails its contract and return the named error that reports it."""
    return EventInvalid(f"{error} (kept in {quarantine(event, error)})")
