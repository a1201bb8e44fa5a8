"""Sync customer master: match or create the customer; conflicting master data is an exception."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters.from_settings import store
from handoff.adapters.system_ports import ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.provisioning_step import Provisioning, provision
from handoff.observability import logger, metrics

STEP = "SyncCustomerMaster"


def _work(step: Provisioning) -> dict:
    return ports().customer_master.match_or_create(step.deal.detail.account, idempotency_key=step.key).to_json_dict()


def sync(request: HandoffRef) -> dict:
    store().mark_provisioning(request.handoffId)
    customer = provision(request.handoffId, STEP, _work, save=lambda customer: {"customer": customer},
                         detail=lambda customer: f"{customer['match']} {customer['erpCustomerId']}")
    logger.info("customer synced", extra={"handoff_id": request.handoffId, "match": customer["match"]})
    metrics.add_metric(name=f"Customer{customer['match'].title()}", unit=MetricUnit.Count, value=1)
    return {"handoffId": request.handoffId, "erpCustomerId": customer["erpCustomerId"]}


handler = step_handler(HandoffRef)(sync)
