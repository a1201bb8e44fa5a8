"""The launch packet: everything agreed, what was created where, what is unresolved."""

from typing import Any

from handoff.contracts import ClosedWonEvent, HandoffRecord


def build_packet(deal: ClosedWonEvent, record: HandoffRecord) -> dict[str, Any]:
    detail = deal.detail
    contract = detail.contract
    return {
        "handoffId": record.handoff_id,
        "opportunity": {"id": detail.opportunity.id, "name": detail.opportunity.name,
                        "owner": detail.opportunity.owner.model_dump(mode="json"),
                        "serviceLine": detail.opportunity.service_line, "region": detail.opportunity.region},
        "customer": record.customer.to_json_dict() if record.customer else None,
        "agreed": {
            "contractId": contract.id, "type": contract.type,
            "value": contract.value.model_dump(mode="json"),
            "term": {"start": contract.start_date.isoformat(), "end": contract.end_date.isoformat()},
            "paymentTermsDays": contract.payment_terms_days,
            "scope": detail.scope.summary,
            "countries": detail.scope.countries,
            "phases": [p.model_dump(mode="json") for p in detail.scope.phases],
            "clauses": [{"id": c.id, "title": c.title} for c in contract.clauses],
        },
        "created": {
            "project": record.project.to_json_dict() if record.project else None,
            "billingSchedule": record.billing_schedule.to_json_dict() if record.billing_schedule else None,
            "staffingRequests": [r.to_json_dict() for r in record.staffing_requests],
            "purchaseRequisitions": [r.to_json_dict() for r in record.purchase_requisitions],
        },
        "approvals": [a.to_json_dict() for a in record.approvals],
        "unresolved": [e.to_json_dict() for e in record.exceptions],
    }


def render_markdown(packet: dict[str, Any]) -> str:
    agreed, created = packet["agreed"], packet["created"]
    project = created["project"] or {}
    lines = [
        f"# Launch packet: {packet['opportunity']['name']}",
        "",
        f"- Handoff: `{packet['handoffId']}`; opportunity `{packet['opportunity']['id']}`",
        f"- Customer: {(packet['customer'] or {}).get('legalName', '-')} "
        f"(ERP `{(packet['customer'] or {}).get('erpCustomerId', '-')}`, {(packet['customer'] or {}).get('match', '-')})",
        f"- Project: `{project.get('code', '-')}` {project.get('name', '')}, cost center {project.get('costCenter', '-')},"
        f" tax treatment {project.get('taxTreatment', '-')}",
        "",
        "## Agreed",
        f"- Contract {agreed['contractId']} ({agreed['type']}): {agreed['value']['value']} {agreed['value']['currency']},"
        f" {agreed['term']['start']} to {agreed['term']['end']}, payment {agreed['paymentTermsDays']} days",
        f"- Scope: {agreed['scope']}",
        "",
        "## Billing schedule",
    ]
    schedule = created["billingSchedule"]
    if schedule:
        lines += ["| # | Description | Amount | Tax | Due |", "|---|---|---|---|---|"]
        lines += [f"| {line['seq']} | {line['description']} | {line['amount']} | {line['tax']} | "
                  f"{line.get('dueDate') or line.get('trigger') or ''} |" for line in schedule["lines"]]
        lines.append(f"\nTotal: **{schedule['total']} {schedule['currency']}**")
    lines += ["", "## Staffing requests"]
    lines += [f"- {r['role']}: {r['hours']} h from {r['startDate']} in {r['location']} ({r['status']})"
              for r in created["staffingRequests"]] or ["- none"]
    lines += ["", "## Purchase requisitions"]
    lines += [f"- {r['vendor']}: {r['amount']} {r['currency']} (cost center {r['costCenter']})"
              for r in created["purchaseRequisitions"]] or ["- none"]
    lines += ["", "## Approvals"]
    lines += [f"- {a['kind']}: {a['decision']} by {a.get('decidedBy') or a['approver']}"
              + (f" ({a['comment']})" if a.get("comment") else "") for a in packet["approvals"]] or ["- none needed"]
    lines += ["", "## Unresolved"]
    lines += [f"- {e['severity']} {e['code']} ({e.get('field') or e['step']}): {e['message']}"
              for e in packet["unresolved"]] or ["- nothing"]
    return "\n".join(lines) + "\n"
