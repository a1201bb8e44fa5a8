"""Exception triage: who owns each exception, by when, and how urgent it is against the others.

Score 0..1000: BLOCKING exceptions score 500..1000 and WARNINGs 0..499, so anything that stops a
handoff outranks anything that does not, whatever the deal size; within a severity the revenue at
risk decides, log-scaled (a 10x larger deal adds a fixed step), full at revenue_full_score_at.
With the customer's risk (handoff.domain.customer_risk) the 500 points are shared: 350 from revenue,
150 from customer risk, so a risky new customer's problem outranks a safe one's of the same size."""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from handoff.contracts import ExceptionEntry, Money
from handoff.domain.customer_risk import CustomerRisk
from handoff.domain.playbooks import ExceptionPolicy, Playbook

SEVERITY_BASE = {"BLOCKING": 500, "WARNING": 0}
SEVERITY_CAP = {"BLOCKING": 1000, "WARNING": 499}
REVENUE_POINTS = Decimal(500)
REVENUE_SHARE_WITH_RISK = Decimal("0.7")
RISK_POINTS = 150


def revenue_points(revenue_at_risk: Money, policy: ExceptionPolicy) -> int:
    """0..500 from the revenue at risk, converted roughly to the reference currency (ranking only)."""
    currency = revenue_at_risk.currency
    rate = Decimal(1) if currency == policy.reference_currency else policy.fx_to_reference.get(currency, Decimal(1))
    amount = max(revenue_at_risk.value * rate, Decimal(0))
    points = REVENUE_POINTS * (amount + 1).log10() / (policy.revenue_full_score_at + 1).log10()
    return int(min(points, REVENUE_POINTS).to_integral_value(rounding=ROUND_HALF_UP))


def prioritise(
    exceptions: list[ExceptionEntry], *, revenue_at_risk: Money, now: datetime, playbook: Playbook,
    customer_risk: CustomerRisk | None = None,
) -> list[ExceptionEntry]:
    """Copies with owner_group, due_date (UTC date of now + the severity's SLA) and priority set,
    highest priority first (ties: blocking first, then by code and field, so the order is stable).
    Values already on the entries are replaced: the playbook decides."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    policy = playbook.exceptions
    revenue = revenue_points(revenue_at_risk, policy)
    if customer_risk is not None:
        share = (Decimal(revenue) * REVENUE_SHARE_WITH_RISK).to_integral_value(rounding=ROUND_HALF_UP)
        revenue = int(share) + RISK_POINTS * customer_risk.score // 100
    ranked = [
        entry.model_copy(
            update={
                "owner_group": playbook.owner_group(entry.code),
                "due_date": (now.astimezone(UTC) + timedelta(hours=policy.sla_hours[entry.severity])).date(),
                "priority": min(SEVERITY_BASE[entry.severity] + revenue, SEVERITY_CAP[entry.severity]),
            }
        )
        for entry in exceptions
    ]
    return sorted(ranked, key=lambda e: (-(e.priority or 0), e.severity != "BLOCKING", e.code, e.field or ""))
