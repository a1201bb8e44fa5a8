"""Raise purchase requisitions: one per subcontractor, against the project and cost center."""

from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.domain.procurement import purchase_requisitions
from handoff.handlers._provisioning import idempotency_key, once, ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger

STEP = "RaisePurchaseRequisitions"


def raise_requisitions(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    record = records.record(request.handoffId)
    if record.project is None:
        raise LookupError(f"handoff {request.handoffId} has no project yet; CreateProjectShell runs first")

    def work() -> dict:
        wanted = purchase_requisitions(deal, cost_center=record.project.cost_center, project_code=record.project.code)
        if not wanted:
            return {"requisitions": []}
        raised = ports().procurement.raise_requisitions(
            record.project.code, wanted, idempotency_key=idempotency_key(request.handoffId, STEP))
        return {"requisitions": [r.to_json_dict() for r in raised]}

    requisitions = once(request.handoffId, STEP, work)["requisitions"]
    records.save(request.handoffId, purchaseRequisitions=requisitions)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(), detail=f"{len(requisitions)} requisitions")
    logger.info("requisitions raised", extra={"handoff_id": request.handoffId, "count": len(requisitions)})
    return {"handoffId": request.handoffId, "purchaseRequisitions": len(requisitions)}


handler = step_handler(HandoffRef)(raise_requisitions)
