"""Request staffing: firm requests for every staffing need. Soft requests opened before close
(track_pipeline) have the same request ids, so they are firmed up, never duplicated."""

from handoff.adapters.system_ports import ports
from handoff.domain.staffing import staffing_requests
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.provisioning_step import Provisioning, provision
from handoff.observability import logger

STEP = "RequestStaffing"


def _work(step: Provisioning) -> dict:
    requests = ports().staffing.firm(step.deal.detail.opportunity.id, step.record.project.code,
                                     staffing_requests(step.deal, firm=True), idempotency_key=step.key)
    return {"requests": [r.to_json_dict() for r in requests]}


def request_staffing(request: HandoffRef) -> dict:
    requests = provision(request.handoffId, STEP, _work, save=lambda result: {"staffingRequests": result["requests"]},
                         detail=lambda result: f"{len(result['requests'])} requests",
                         needs=("project",), missing="has no project; staffing is firmed against one")["requests"]
    logger.info("staffing requested", extra={"handoff_id": request.handoffId, "count": len(requests)})
    return {"handoffId": request.handoffId, "staffingRequests": len(requests)}


handler = step_handler(HandoffRef)(request_staffing)
