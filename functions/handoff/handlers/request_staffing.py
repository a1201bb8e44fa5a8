"""Request staffing: firm requests for every staffing need. Soft requests opened before close
(track_pipeline) have the same request ids, so they are firmed up, never duplicated."""

from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.domain.staffing import staffing_requests
from handoff.handlers._provisioning import idempotency_key, once, ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger

STEP = "RequestStaffing"


def request_staffing(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    record = records.record(request.handoffId)
    if record.project is None:
        raise LookupError(f"handoff {request.handoffId} has no project; staffing is firmed against one")
    project_code = record.project.code

    def work() -> dict:
        requests = ports().staffing.firm(
            deal.detail.opportunity.id, project_code, staffing_requests(deal, firm=True),
            idempotency_key=idempotency_key(request.handoffId, STEP))
        return {"requests": [r.to_json_dict() for r in requests]}

    requests = once(request.handoffId, STEP, work)["requests"]
    records.save(request.handoffId, staffingRequests=requests)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(), detail=f"{len(requests)} requests")
    logger.info("staffing requested", extra={"handoff_id": request.handoffId, "count": len(requests)})
    return {"handoffId": request.handoffId, "staffingRequests": len(requests)}


handler = step_handler(HandoffRef)(request_staffing)
