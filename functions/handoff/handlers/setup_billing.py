"""Set up billing schedule: lines from the contract terms, in Decimal, into the billing system."""

from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.domain.billing import build_billing_schedule
from handoff.handlers._provisioning import idempotency_key, once, playbook_for, ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger

STEP = "SetupBillingSchedule"


def setup(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    record = records.record(request.handoffId)
    if record.project is None or record.customer is None:
        raise LookupError(f"handoff {request.handoffId} has no project yet; CreateProjectShell runs first")
    detail = deal.detail
    playbook = playbook_for(deal)
    country = detail.account.country

    def work() -> dict:
        schedule = build_billing_schedule(
            detail.contract, detail.staffing, rules=playbook.billing, tax=playbook.tax_rule(country),
            customer_country=country, supplier_country=playbook.supplier_country(country),
        )
        schedule_id = ports().billing.create_schedule(
            record.project.code, record.customer, schedule, idempotency_key=idempotency_key(request.handoffId, STEP))
        return {"schedule": schedule.to_json_dict(), "scheduleId": schedule_id}

    result = once(request.handoffId, STEP, work)
    schedule = result["schedule"]
    records.save(request.handoffId, billingSchedule=schedule)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(),
                        detail=f"{len(schedule['lines'])} lines, {schedule['total']} {schedule['currency']}")
    logger.info("billing schedule created", extra={"handoff_id": request.handoffId, "total": schedule["total"]})
    return {"handoffId": request.handoffId, "billingScheduleId": result["scheduleId"]}


handler = step_handler(HandoffRef)(setup)
