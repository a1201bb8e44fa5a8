"""HubSpot intake: webhook batches from the queue; every deal they name is re-read once through
the CRM v3 API and published as the canonical event. A batch that fails (HubSpot unreachable,
rate limited past the retries) is returned to the queue alone (partial batch response)."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters.crm.settings import crm_settings
from handoff.domain import crm_notifications
from handoff.handlers._crm import deals, ingest
from handoff.invocation import invocation
from handoff.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)
# Properties that decide the intake even though the mapping reads them under another name.
ALWAYS_WATCHED = {"dealstage", "pipeline", "hs_is_closed_won", "hubspot_owner_id"}


def _record(record: SQSRecord) -> list[dict[str, Any]]:
    events = json.loads(record.body).get("events") or []
    settings = crm_settings().hubspot
    adapter = deals("hubspot")
    notification = crm_notifications.hubspot(events, watched=adapter.mapping.watched_fields() | ALWAYS_WATCHED,
                                             app_id=settings.app_id if settings else None)
    if notification.ignored:
        logger.info("webhook events ignored", extra={"ignored": notification.ignored})
    return ingest("hubspot", notification.ids) if notification.ids else []


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    with invocation(context):
        return process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
