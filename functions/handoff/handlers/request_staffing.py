"""Request staffing: firm requests for every staffing need (soft ones opened before close are
firmed up, never duplicated)."""

from handoff.domain.staffing import staffing_requests
from handoff.handlers._provisioning import idempotency_key, once, ports
from handoff.handlers._runtime import HandoffRef, logger, now, step_handler, store

STEP = "RequestStaffing"


def request_staffing(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    record = records.record(request.handoffId)
    project_code = record.project.code if record.project else None

    def work() -> dict:
        # Without a soft request opened before close, each need is a new firm request (the ledger
        # derives the id from the idempotency key, so a retry opens nothing twice).
        wanted = [r.model_copy(update={"request_id": None}) for r in staffing_requests(deal, firm=True)]
        opened = ports().staffing.open_requests(
            deal.detail.opportunity.id, project_code, wanted, firm=True,
            idempotency_key=idempotency_key(request.handoffId, STEP))
        return {"requests": [r.to_json_dict() for r in opened]}

    requests = once(request.handoffId, STEP, work)["requests"]
    records.save(request.handoffId, staffingRequests=requests)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(), detail=f"{len(requests)} requests")
    logger.info("staffing requested", extra={"handoff_id": request.handoffId, "count": len(requests)})
    return {"handoffId": request.handoffId, "staffingRequests": len(requests)}


handler = step_handler(HandoffRef)(request_staffing)
