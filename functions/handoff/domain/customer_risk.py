"""Customer risk of a deal, from its own facts (pure): how likely the customer relationship is to
cost time or money beyond what the revenue says. Used with revenue at risk to rank exceptions
(handoff.domain.priority); it advises, it never decides anything.

Score 0..100, the sum of what applies, capped:
- new customer (no ERP customer id on the account): 30
- long payment terms: over 60 days 15, over 90 days 25
- a country the playbook rates as risky (ExceptionPolicy.country_risk, 0..30 points), account or scope
- work outside the customer's country (cross-border delivery): 10
- onerous clauses, by title or text: unlimited liability, penalties or liquidated damages,
  termination for convenience: 10 each, at most 20
- subcontractors: 5 each, at most 10"""

import re
from dataclasses import dataclass

from handoff.contracts import ClosedWonEvent

NEW_CUSTOMER = 30
CROSS_BORDER = 10
_ONEROUS = {
    "unlimited liability": re.compile(r"\bunlimited\b[^.]{0,60}\bliab|\bliab\w*[^.]{0,60}\b(?:unlimited|uncapped)\b",
                                      re.I),
    "penalties": re.compile(r"liquidated damages|\bpenalt(?:y|ies)\b|delay damages", re.I),
    "termination for convenience": re.compile(r"terminat\w*[^.]{0,80}\b(?:for convenience|without cause)", re.I),
}


@dataclass(frozen=True)
class CustomerRisk:
    score: int
    reasons: tuple[str, ...]


def customer_risk(event: ClosedWonEvent, country_risk: dict[str, int] | None = None) -> CustomerRisk:
    detail = event.detail
    points: list[tuple[int, str]] = []
    if not detail.account.erp_customer_id:
        points.append((NEW_CUSTOMER, "new customer"))
    terms = detail.contract.payment_terms_days
    if terms > 90:
        points.append((25, f"payment terms of {terms} days"))
    elif terms > 60:
        points.append((15, f"payment terms of {terms} days"))
    countries = {detail.account.country, *detail.scope.countries}
    rated = {c: (country_risk or {}).get(c, 0) for c in sorted(countries)}
    worst = max(rated.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
    if worst[1] > 0:
        points.append((min(worst[1], 30), f"country risk {worst[0]}"))
    if set(detail.scope.countries) - {detail.account.country}:
        points.append((CROSS_BORDER, "work outside the customer's country"))
    clauses = " ".join(f"{c.title}. {c.text}" for c in detail.contract.clauses or [])
    onerous = [name for name, pattern in _ONEROUS.items() if pattern.search(clauses)]
    if onerous:
        points.append((min(10 * len(onerous), 20), ", ".join(onerous)))
    subcontractors = len(detail.subcontractors or [])
    if subcontractors:
        points.append((min(5 * subcontractors, 10), f"{subcontractors} subcontractor(s)"))
    return CustomerRisk(min(sum(p for p, _ in points), 100), tuple(reason for _, reason in points))
