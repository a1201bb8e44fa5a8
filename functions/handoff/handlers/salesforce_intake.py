"""Salesforce intake: an Event Relay event from the partner event bus (our platform event, or an
OpportunityChangeEvent) names opportunities; each is re-read through the REST API and published
as the canonical event. Only an event that is not from the configured Salesforce org is refused."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters.crm.settings import crm_settings
from handoff.domain import crm_notifications
from handoff.handlers._crm import deals, ingest
from handoff.invocation import invocation
from handoff.observability import logger, metrics
from handoff.settings import settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with invocation(context):
        salesforce = crm_settings().salesforce
        source, detail_type = str(event.get("source") or ""), str(event.get("detail-type") or "")
        expected = [s for s in settings().salesforce_event_sources.split(",") if s]
        if salesforce is None or source not in expected or detail_type not in salesforce.detail_types:
            # The rule pins both; anything else reaching us is not from the org we trust.
            logger.warning("event refused", extra={"source": source, "detail_type": detail_type})
            metrics.add_metric(name="CrmEventsRefused", unit=MetricUnit.Count, value=1)
            return {"refused": f"source {source!r} / detail-type {detail_type!r} is not a configured Salesforce event"}
        payload = (event.get("detail") or {}).get("payload") or {}
        adapter = deals("salesforce")
        notification = crm_notifications.salesforce(
            detail_type, payload, watched=adapter.mapping.watched_fields() | {"StageName", "IsWon", "IsClosed"},
            integration_user=salesforce.integration_user_id)
        if notification.ignored:
            logger.info("notification parts ignored", extra={"ignored": notification.ignored})
        done = ingest("salesforce", notification.ids) if notification.ids else []
        return {"ingested": done, "ignored": notification.ignored}
