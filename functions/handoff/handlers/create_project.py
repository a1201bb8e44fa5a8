"""Create project shell: code, cost center, tax treatment, dates, WBS from playbook and contract."""

from datetime import UTC, datetime

from handoff.adapters.system_ports import ports
from handoff.contracts import CustomerRef
from handoff.domain.project import build_project_shell, describe_tax_treatment, project_code
from handoff.handlers._step import HandoffRef, step_handler
from handoff.logic.provisioning_step import Provisioning, provision
from handoff.observability import logger

STEP = "CreateProjectShell"


def _work(step: Provisioning) -> dict:
    detail, playbook = step.deal.detail, step.playbook()
    country = detail.account.country
    year = datetime.now(UTC).year
    scheme = playbook.project_code_scheme
    seq = step.records.next_sequence(f"{detail.opportunity.service_line}|{country}|{year}") if "{seq" in scheme else 0
    code = project_code(
        scheme, service_line=detail.opportunity.service_line, country=country,
        region=detail.opportunity.region, year=year, seq=seq, opportunity_id=detail.opportunity.id,
    )
    shell = build_project_shell(
        step.deal, code=code, cost_center=playbook.cost_center_for(detail.opportunity.region, country),
        tax_treatment=describe_tax_treatment(playbook.tax_rule(country), country, playbook.supplier_country(country)),
        template=playbook.wbs_template,
    )
    customer = CustomerRef.model_validate(step.record.customer.to_json_dict())
    return ports().projects.create_project(shell, customer, idempotency_key=step.key).to_json_dict()


def create(request: HandoffRef) -> dict:
    project = provision(request.handoffId, STEP, _work, save=lambda project: {"project": project},
                        detail=lambda project: project["code"],
                        needs=("customer",), missing="has no customer yet; SyncCustomerMaster runs first")
    logger.info("project created", extra={"handoff_id": request.handoffId, "project_code": project["code"]})
    return {"handoffId": request.handoffId, "projectCode": project["code"]}


handler = step_handler(HandoffRef)(create)
