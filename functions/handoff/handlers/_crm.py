"""Shared by the CRM intake handlers: re-read the deals a notification names through the CRM's
adapter, map them, and publish the canonical events on the handoff bus."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import aws
from handoff.adapters.crm.factory import crm_deals
from handoff.adapters.from_settings import event_bus
from handoff.adapters.system_ports import backoff_sleep
from handoff.domain.crm_intake import decide
from handoff.observability import logger, metrics


def deals(crm: str):
    return crm_deals(crm, secretsmanager=aws.client("secretsmanager"), sleep=backoff_sleep)


def ingest(crm: str, ids: list[str]) -> list[dict]:
    """Publish the canonical event of each deal as the CRM has it now; returns what was done."""
    adapter = deals(crm)
    done = []
    bus = event_bus()
    for state in adapter.read(ids):
        outcome = decide(adapter.mapping, state)
        entry = {"opportunityId": state.opportunity_id, "reason": outcome.reason}
        if outcome.event is not None:
            bus.publish(outcome.event["source"], outcome.event["detail-type"], outcome.event["detail"])
            entry.update(eventId=outcome.event["detail"]["eventId"], detailType=outcome.event["detail-type"])
            metrics.add_metric(name="CrmEventsPublished", unit=MetricUnit.Count, value=1)
        logger.info("crm deal ingested", extra={"crm": crm, **entry})
        done.append(entry)
    missing = sorted(set(ids) - {d["opportunityId"] for d in done})
    if missing:
        logger.warning("deals not found in the CRM", extra={"crm": crm, "ids": missing})
    return done
