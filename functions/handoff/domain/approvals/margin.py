"""The estimated margin of a deal, from its staffing, the playbook's cost rates and subcontractor costs."""

from dataclasses import dataclass
from decimal import Decimal

from handoff.contracts import ClosedWonEvent


def percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1'))} %"


@dataclass(frozen=True)
class MarginUnknown:
    """The margin could not be estimated; `reason` says why, for the finance approver."""

    reason: str


def estimate_margin(event: ClosedWonEvent, cost_rates: dict[str, Decimal], default_rate: Decimal,
                    cost_currency: str) -> Decimal | MarginUnknown:
    """(value - cost) / value, cost = staffed hours x hourly cost rate per role (default_rate for roles
    not listed; rates in `cost_currency`) + subcontractor costs. No exchange rates are guessed: costs
    in another currency than the contract's make the margin unknown."""
    d = event.detail
    value = d.contract.value
    if value.value <= 0:
        return MarginUnknown(f"the contract value is {value}")
    if d.staffing and cost_currency != value.currency:
        return MarginUnknown(f"cost rates are in {cost_currency}, the contract in {value.currency}")
    foreign = sorted({s.cost.currency for s in d.subcontractors if s.cost.currency != value.currency})
    if foreign:
        return MarginUnknown(f"subcontractors are priced in {', '.join(foreign)}, the contract in {value.currency}")
    rates = {role.casefold(): rate for role, rate in cost_rates.items()}
    cost = sum((rates.get(s.role.casefold(), default_rate) * s.hours for s in d.staffing), Decimal(0))
    cost += sum((s.cost.value for s in d.subcontractors), Decimal(0))
    return ((value.value - cost) / value.value).quantize(Decimal("0.0001"))
