"""The deal as the approver sees it: the summary rows of an approval page and email."""

from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals.vocabulary import excerpt

SUMMARY_LABELS: dict[str, str] = {
    "opportunity": "Opportunity",
    "customer": "Customer",
    "value": "Contract value",
    "contract": "Contract",
    "term": "Term",
    "serviceLine": "Service line",
    "region": "Region",
    "countries": "Delivery countries",
    "scope": "Scope",
    "owner": "Deal owner",
}


def deal_summary(event: ClosedWonEvent) -> dict[str, str]:
    d = event.detail
    c = d.contract
    return {
        "opportunity": f"{d.opportunity.name} ({d.opportunity.id})",
        "customer": f"{d.account.legal_name} ({d.account.country})",
        "value": str(c.value),
        "contract": f"{c.id}, {c.type.replace('_', ' ')}, {c.status}, payment {c.payment_terms_days} days",
        "term": f"{c.start_date.isoformat()} to {c.end_date.isoformat()}",
        "serviceLine": d.opportunity.service_line,
        "region": d.opportunity.region,
        "countries": ", ".join(d.scope.countries),
        "scope": excerpt(d.scope.summary, 300),
        "owner": f"{d.opportunity.owner.name} <{d.opportunity.owner.email}>",
    }


def summary_rows(summary: dict[str, str]) -> list[tuple[str, str]]:
    """Label/value rows in a fixed order (DynamoDB maps do not keep order)."""
    rows = [(label, summary[key]) for key, label in SUMMARY_LABELS.items() if summary.get(key)]
    return rows + sorted((k, v) for k, v in summary.items() if k not in SUMMARY_LABELS)
