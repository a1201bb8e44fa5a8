"""Raise purchase requisitions: one per subcontractor, against the project and cost center."""

from handoff.adapters.system_ports import ports
from handoff.domain.procurement import purchase_requisitions
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.provisioning_step import Provisioning, provision
from handoff.observability import logger

STEP = "RaisePurchaseRequisitions"


def _work(step: Provisioning) -> dict:
    project = step.record.project
    wanted = purchase_requisitions(step.deal, cost_center=project.cost_center, project_code=project.code)
    if not wanted:
        return {"requisitions": []}
    raised = ports().procurement.raise_requisitions(project.code, wanted, idempotency_key=step.key)
    return {"requisitions": [r.to_json_dict() for r in raised]}


def raise_requisitions(request: HandoffRef) -> dict:
    requisitions = provision(
        request.handoffId, STEP, _work, save=lambda result: {"purchaseRequisitions": result["requisitions"]},
        detail=lambda result: f"{len(result['requisitions'])} requisitions",
        needs=("project",), missing="has no project yet; CreateProjectShell runs first")["requisitions"]
    logger.info("requisitions raised", extra={"handoff_id": request.handoffId, "count": len(requisitions)})
    return {"handoffId": request.handoffId, "purchaseRequisitions": len(requisitions)}


handler = step_handler(HandoffRef)(raise_requisitions)
