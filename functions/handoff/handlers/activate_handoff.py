"""Mark handoff activated: status and time, project code back to the CRM, a Handoff Activated event."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import business_metrics
from handoff.adapters.from_settings import event_bus, store
from handoff.adapters.idempotency import idempotency_key
from handoff.adapters.system_ports import ports
from handoff.clock import now
from handoff.contracts import HandoffStatus
from handoff.contracts.timestamps import iso
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger, metrics

STEP = "MarkActivated"
SOURCE = "closed-won-handoff"


def activate(request: HandoffRef) -> dict:
    records = store()
    record = records.results_so_far(request.handoffId)  # the RECORD item is all this step reads
    if record.project is None:
        raise LookupError(f"handoff {request.handoffId} has no project; nothing to activate")
    ports().crm.project_created(record.opportunity_id, record.project.code,
                                idempotency_key=idempotency_key(request.handoffId, STEP), source=record.source,
                                status=HandoffStatus.ACTIVATED.value, launch_packet=record.launch_packet)
    activated_at = record.activated_at or now()
    # The event first: when the bus refuses it past the step's retries the handoff fails as a whole
    # (CloseHandoff), and it must not be ACTIVATED by then. A retry may publish it again: consumers
    # key on handoffId, as EventBridge's at-least-once delivery requires anyway.
    event_bus().publish(SOURCE, "Handoff Activated", {
        "handoffId": request.handoffId, "opportunityId": record.opportunity_id,
        "projectCode": record.project.code, "activatedAt": iso(activated_at),
    })
    records.set_status(request.handoffId, HandoffStatus.ACTIVATED, activatedAt=activated_at)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", activated_at, detail=record.project.code)
    seconds = (activated_at - record.received_at).total_seconds()
    metrics.add_metric(name="HandoffActivated", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="SecondsToActivation", unit=MetricUnit.Seconds, value=seconds)
    deal = records.deal(request.handoffId)
    business_metrics.handoff_counted("HandoffsActivated", deal)
    business_metrics.closed_won_to_activation(deal, (activated_at - deal.detail.occurred_at).total_seconds())
    logger.info("handoff activated", extra={"handoff_id": request.handoffId, "project_code": record.project.code})
    return {"handoffId": request.handoffId, "projectCode": record.project.code}


handler = step_handler(HandoffRef)(activate)
