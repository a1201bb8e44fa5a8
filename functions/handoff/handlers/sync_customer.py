"""Sync customer master: match or create the customer; conflicting master data is an exception."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.handlers._provisioning import idempotency_key, once, ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger, metrics

STEP = "SyncCustomerMaster"


def sync(request: HandoffRef) -> dict:
    records = store()
    records.mark_provisioning(request.handoffId)
    deal = records.deal(request.handoffId)

    def work() -> dict:
        customer = ports().customer_master.match_or_create(
            deal.detail.account, idempotency_key=idempotency_key(request.handoffId, STEP))
        return customer.to_json_dict()

    customer = once(request.handoffId, STEP, work)
    records.save(request.handoffId, customer=customer)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(),
                        detail=f"{customer['match']} {customer['erpCustomerId']}")
    logger.info("customer synced", extra={"handoff_id": request.handoffId, "match": customer["match"]})
    metrics.add_metric(name=f"Customer{customer['match'].title()}", unit=MetricUnit.Count, value=1)
    return {"handoffId": request.handoffId, "erpCustomerId": customer["erpCustomerId"]}


handler = step_handler(HandoffRef)(sync)
