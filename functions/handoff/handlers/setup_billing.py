"""Set up billing schedule: lines from the contract terms, in Decimal, into the billing system."""

from handoff.adapters.system_ports import ports
from handoff.domain.billing import build_billing_schedule
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.provisioning_step import Provisioning, provision
from handoff.observability import logger

STEP = "SetupBillingSchedule"


def _work(step: Provisioning) -> dict:
    detail, playbook, project = step.deal.detail, step.playbook(), step.record.project
    country = detail.account.country
    schedule = build_billing_schedule(
        detail.contract, detail.staffing, rules=playbook.billing, tax=playbook.tax_rule(country),
        customer_country=country, supplier_country=playbook.supplier_country(country),
    )
    schedule_id = ports().billing.create_schedule(project.code, step.record.customer, schedule,
                                                  idempotency_key=step.key)
    return {"schedule": schedule.to_json_dict(), "scheduleId": schedule_id}


def setup(request: HandoffRef) -> dict:
    result = provision(request.handoffId, STEP, _work, save=lambda result: {"billingSchedule": result["schedule"]},
                       detail=lambda result: (f"{len(result['schedule']['lines'])} lines, "
                                              f"{result['schedule']['total']} {result['schedule']['currency']}"),
                       needs=("project", "customer"), missing="has no project yet; CreateProjectShell runs first")
    logger.info("billing schedule created", extra={"handoff_id": request.handoffId, "total": result["schedule"]["total"]})
    return {"handoffId": request.handoffId, "billingScheduleId": result["scheduleId"]}


handler = step_handler(HandoffRef)(setup)
