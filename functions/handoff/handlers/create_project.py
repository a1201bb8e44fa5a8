"""Create project shell: code, cost center, tax treatment, dates, WBS from playbook and contract."""

from datetime import UTC, datetime

from handoff.adapters.from_settings import store
from handoff.clock import now
from handoff.contracts import CustomerRef
from handoff.domain.project import build_project_shell, describe_tax_treatment, project_code
from handoff.handlers._provisioning import idempotency_key, once, playbook_for, ports
from handoff.handlers._step import HandoffRef, step_handler
from handoff.observability import logger

STEP = "CreateProjectShell"


def create(request: HandoffRef) -> dict:
    records = store()
    deal = records.deal(request.handoffId)
    record = records.record(request.handoffId)
    if record.customer is None:
        raise LookupError(f"handoff {request.handoffId} has no customer yet; SyncCustomerMaster runs first")
    detail = deal.detail
    playbook = playbook_for(deal)
    country = detail.account.country

    def work() -> dict:
        year = datetime.now(UTC).year
        scheme = playbook.project_code_scheme
        seq = records.next_sequence(f"{detail.opportunity.service_line}|{country}|{year}") if "{seq" in scheme else 0
        code = project_code(
            scheme, service_line=detail.opportunity.service_line, country=country,
            region=detail.opportunity.region, year=year, seq=seq, opportunity_id=detail.opportunity.id,
        )
        shell = build_project_shell(
            deal, code=code, cost_center=playbook.cost_center_for(detail.opportunity.region, country),
            tax_treatment=describe_tax_treatment(playbook.tax_rule(country), country, playbook.supplier_country(country)),
            template=playbook.wbs_template,
        )
        created = ports().projects.create_project(shell, CustomerRef.model_validate(record.customer.to_json_dict()),
                                                  idempotency_key=idempotency_key(request.handoffId, STEP))
        return created.to_json_dict()

    project = once(request.handoffId, STEP, work)
    records.save(request.handoffId, project=project)
    records.record_step(request.handoffId, STEP, "SUCCEEDED", now(), detail=project["code"])
    logger.info("project created", extra={"handoff_id": request.handoffId, "project_code": project["code"]})
    return {"handoffId": request.handoffId, "projectCode": project["code"]}


handler = step_handler(HandoffRef)(create)
