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


# CommonMark treats these as markup inside a line; a backslash makes each literal. Text from the deal
# (names, scope, vendors, comments) could otherwise inject links, images, raw HTML or table cells. Line
# markup (headings, lists, "---") needs a line start, and deal text never starts a line.
_MARKUP = set("\\`*_{}[]<>()#+!|~&")


def md(value: object) -> str:
    """Text from the deal, escaped for Markdown: every markup character backslash-escaped, line breaks
    folded into spaces (a new line could start a heading, a list or a table row)."""
    text = " ".join(str(value).split())
    return "".join(f"\\{c}" if c in _MARKUP else c for c in text)


def render_markdown(packet: dict[str, Any]) -> str:
    agreed, created = packet["agreed"], packet["created"]
    project = created["project"] or {}
    customer = packet["customer"] or {}
    lines = [
        f"# Launch packet: {md(packet['opportunity']['name'])}",
        "",
        f"- Handoff: {md(packet['handoffId'])}; opportunity {md(packet['opportunity']['id'])}",
        f"- Customer: {md(customer.get('legalName', '-'))} "
        f"(ERP {md(customer.get('erpCustomerId', '-'))}, {md(customer.get('match', '-'))})",
        f"- Project: {md(project.get('code', '-'))} {md(project.get('name', ''))}, cost center "
        f"{md(project.get('costCenter', '-'))}, tax treatment {md(project.get('taxTreatment', '-'))}",
        "",
        "## Agreed",
        f"- Contract {md(agreed['contractId'])} ({md(agreed['type'])}): {md(agreed['value']['value'])} "
        f"{md(agreed['value']['currency'])}, {agreed['term']['start']} to {agreed['term']['end']}, payment "
        f"{agreed['paymentTermsDays']} days",
        f"- Scope: {md(agreed['scope'])}",
        "",
        "## Billing schedule",
    ]
    schedule = created["billingSchedule"]
    if schedule:
        lines += ["| # | Description | Amount | Tax | Due |", "|---|---|---|---|---|"]
        lines += [f"| {line['seq']} | {md(line['description'])} | {md(line['amount'])} | {md(line['tax'])} | "
                  f"{md(line.get('dueDate') or line.get('trigger') or '')} |" for line in schedule["lines"]]
        lines.append(f"\nTotal: **{md(schedule['total'])} {md(schedule['currency'])}**")
    lines += ["", "## Staffing requests"]
    lines += [f"- {md(r['role'])}: {md(r['hours'])} h from {md(r['startDate'])} in {md(r['location'])} "
              f"({md(r['status'])})" for r in created["staffingRequests"]] or ["- none"]
    lines += ["", "## Purchase requisitions"]
    lines += [f"- {md(r['vendor'])}: {md(r['amount'])} {md(r['currency'])} (cost center {md(r['costCenter'])})"
              for r in created["purchaseRequisitions"]] or ["- none"]
    lines += ["", "## Approvals"]
    lines += [f"- {md(a['kind'])}: {md(a['decision'])} by {md(a.get('decidedBy') or a['approver'])}"
              + (f" ({md(a['comment'])})" if a.get("comment") else "") for a in packet["approvals"]] or [
        "- none needed"]
    lines += ["", "## Unresolved"]
    lines += [f"- {md(e['severity'])} {md(e['code'])} ({md(e.get('field') or e['step'])}): {md(e['message'])}"
              for e in packet["unresolved"]] or ["- nothing"]
    return "\n".join(lines) + "\n"
