"""Billing schedule from the contract terms: milestone, fixed fee, retainer, time and materials.

Pure: Decimal amounts quantized to the currency's precision (JPY 0, EUR 2, BHD 3), no I/O.
Fixed-fee, milestone and retainer schedules always total contract.value exactly; inputs that
cannot meet that (readiness should have blocked them) raise ValueError naming the problem.
"""

from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from handoff.contracts import BillingLine, BillingSchedule, Contract, Money, StaffingNeed
from handoff.contracts.money import currency_exponent, quantize
from handoff.domain.policy import BillingRules, TaxRule
from handoff.domain.taxids import EU_COUNTRIES

HOURS_PER_DAY = Decimal(8)  # day rates on the rate card convert to hourly at 8 hours a day
TIMESHEET_TRIGGER = "timesheet-approval"


@dataclass(frozen=True)
class _Draft:
    """A line before tax."""

    description: str
    amount: Decimal
    due_date: date | None = None
    trigger: str | None = None
    estimate: bool = False


@dataclass(frozen=True)
class _Month:
    start: date  # clipped to the term
    end: date  # clipped to the term
    month_end: date  # calendar month end


def _eu(country: str) -> str:
    code = country.strip().upper()
    return "GR" if code == "EL" else code


def is_reverse_charge(tax: TaxRule, customer_country: str, supplier_country: str | None) -> bool:
    """EU cross-border B2B: customer and supplier in different EU member states."""
    if not tax.reverse_charge_cross_border or supplier_country is None:
        return False
    customer, supplier = _eu(customer_country), _eu(supplier_country)
    return customer != supplier and customer in EU_COUNTRIES and supplier in EU_COUNTRIES


def percent(rate: Decimal) -> str:
    """0.19 -> "19", 0.0825 -> "8.25"."""
    return format((rate * 100).normalize(), "f")


def month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def _anniversary(start: date, months: int) -> date:
    """start moved on by whole months, end-of-month convention: a start on the last day of its month
    keeps to month ends (Jan 31 -> Feb 28/29 -> Mar 31); another day is clipped to a short month
    (Jan 30 -> Feb 28 -> Mar 30)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = monthrange(year, month)[1]
    return date(year, month, last if start == month_end(start) else min(start.day, last))


def service_periods(start: date, end: date) -> list[_Month]:
    """The contract's monthly service periods, anchored on its start date: a term starting on the
    15th runs the 15th to the 14th; the last period ends with the term. `month_end` is the period's
    full (unclipped) end, the due date of an invoice in arrears."""
    periods: list[_Month] = []
    k = 0
    while (first := _anniversary(start, k)) <= end:
        full_end = _anniversary(start, k + 1) - timedelta(days=1)
        periods.append(_Month(first, min(full_end, end), min(full_end, end)))
        k += 1
    return periods


def _period_label(period: _Month) -> str:
    """"2027-01" for a calendar month, else the dates ("2027-01-15 to 2027-02-14")."""
    if period.start.day == 1 and period.end == month_end(period.start):
        return f"{period.start:%Y-%m}"
    return f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}"


def retainer_mismatch(contract: Contract) -> tuple[int, Decimal] | None:
    """(periods, fee x periods) when a retainer's monthly fee over its service periods is not the
    contract value; None when they agree (or the contract is no retainer)."""
    if contract.type != "retainer" or contract.monthly_fee is None or contract.end_date < contract.start_date:
        return None
    periods = len(service_periods(contract.start_date, contract.end_date))
    expected = contract.monthly_fee.value * periods
    return None if expected == contract.value.value else (periods, expected)


def working_days(first: date, last: date) -> int:
    """Monday to Friday in [first, last]; public holidays are not modelled."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    weeks, extra = divmod(days, 7)
    return weeks * 5 + sum(1 for k in range(extra) if (first.weekday() + k) % 7 < 5)


def _check_currency(money: Money, currency: str, what: str) -> None:
    if money.currency != currency:
        raise ValueError(f"{what} is in {money.currency} but the contract value is in {currency}")


def _milestone(contract: Contract, staffing: list[StaffingNeed], rules: BillingRules) -> list[_Draft]:
    currency = contract.value.currency
    for m in contract.milestones:
        _check_currency(m.amount, currency, f"milestone {m.id}")
    ordered = sorted(contract.milestones, key=lambda m: m.due_date)  # stable: ties keep contract order
    return [_Draft(f"{m.id} - {m.name}", m.amount.value, due_date=m.due_date) for m in ordered]


def _fixed_fee(contract: Contract, staffing: list[StaffingNeed], rules: BillingRules) -> list[_Draft]:
    value, currency, n = contract.value.value, contract.value.currency, rules.fixed_fee_installments
    share = quantize(value / n, currency, rules.rounding)
    amounts = [share] * (n - 1) + [value - share * (n - 1)]  # rounding remainder on the last line
    # n periods of (nearly) equal length in days; installment i falls at the start or end of period i.
    days = (contract.end_date - contract.start_date).days + 1
    bounds = [contract.start_date + timedelta(days=i * days // n) for i in range(n + 1)]
    drafts = []
    for i, amount in enumerate(amounts):
        start, end = bounds[i], max(bounds[i], bounds[i + 1] - timedelta(days=1))
        due = start if rules.invoice_timing == "start_of_period" else end
        drafts.append(_Draft(f"Fixed fee installment {i + 1} of {n}", amount, due_date=due))
    return drafts


def _retainer(contract: Contract, staffing: list[StaffingNeed], rules: BillingRules) -> list[_Draft]:
    if contract.monthly_fee is None:  # the Contract model already requires it; kept for type narrowing
        raise ValueError("a retainer contract needs monthlyFee")
    _check_currency(contract.monthly_fee, contract.value.currency, "monthlyFee")
    mismatch = retainer_mismatch(contract)
    if mismatch:  # readiness blocks this deal (AMOUNT_MISMATCH); no line may paper over the gap
        periods, expected = mismatch
        raise ValueError(f"{periods} x {contract.monthly_fee} = {expected:f} {contract.value.currency} "
                         f"is not the contract value {contract.value}")
    fee = contract.monthly_fee.value
    return [
        _Draft(f"Retainer {_period_label(p)}", fee, due_date=p.start if rules.invoice_timing == "start_of_period" else p.end)
        for p in service_periods(contract.start_date, contract.end_date)
    ]


def _hourly_rates(contract: Contract) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for entry in contract.rate_card:
        _check_currency(entry.rate, contract.value.currency, f"rate card entry {entry.role!r}")
        hourly = entry.rate.value if entry.unit == "hour" else entry.rate.value / HOURS_PER_DAY
        rates.setdefault(entry.role.strip().casefold(), hourly)
    return rates


def _allocate(amount: Decimal, weights: list[int], currency: str, rounding: str) -> list[Decimal]:
    """Split amount by weights at currency precision; the remainder goes to the last weighted slot."""
    total = sum(weights)
    shares = [quantize(amount * w / total, currency, rounding) for w in weights]
    last = max(i for i, w in enumerate(weights) if w)
    shares[last] += amount - sum(shares)
    return shares


def _time_and_materials(contract: Contract, staffing: list[StaffingNeed], rules: BillingRules) -> list[_Draft]:
    currency = contract.value.currency
    rates = _hourly_rates(contract)
    months = service_periods(contract.start_date, contract.end_date)
    per_month = [Decimal(0)] * len(months)
    for need in staffing:
        hourly = rates.get(need.role.strip().casefold())
        if hourly is None:
            raise ValueError(f"staffed role {need.role!r} has no rate card entry")
        first = max(need.start_date, contract.start_date)
        windows = [(max(m.start, first), m.end) for m in months]
        # Hours follow working days the role is active in each month (calendar days if none).
        weights = [working_days(a, b) for a, b in windows]
        if not any(weights):
            weights = [max((b - a).days + 1, 0) for a, b in windows]
        if not any(weights):
            raise ValueError(f"staffed role {need.role!r} starts {need.start_date} after the contract ends")
        cost = quantize(hourly * need.hours, currency, rules.rounding)
        per_month = [acc + share for acc, share in zip(per_month, _allocate(cost, weights, currency, rules.rounding))]

    cap = contract.not_to_exceed
    if cap is not None:
        _check_currency(cap, currency, "notToExceed")
    remaining = cap.value if cap is not None else None
    drafts = []
    for month, estimate in zip(months, per_month):
        description = f"Time and materials {_period_label(month)} (estimate)"
        amount = estimate
        if remaining is not None:
            # Cumulative cap: once the not-to-exceed is consumed, later months bill nothing.
            amount = min(estimate, remaining)
            remaining -= amount
            if amount < estimate:
                description += f", capped by not-to-exceed {cap}"
        drafts.append(_Draft(description, amount, due_date=month.month_end, trigger=TIMESHEET_TRIGGER, estimate=True))
    return drafts


_BUILDERS: dict[str, Callable[[Contract, list[StaffingNeed], BillingRules], list[_Draft]]] = {
    "milestone": _milestone,
    "fixed_fee": _fixed_fee,
    "retainer": _retainer,
    "time_and_materials": _time_and_materials,
}


def _tax_note(tax: TaxRule, reverse: bool, customer_country: str, supplier_country: str | None, currency: str) -> str:
    if reverse:
        return (
            f"Reverse charge: no {tax.name} charged; the customer ({customer_country}) accounts for {tax.name}"
            f" (EU cross-border B2B, Art. 196 Directive 2006/112/EC; supplier {supplier_country})."
        )
    if not tax.rate:
        return f"No {tax.name} charged (exempt/none)."
    return f"{tax.name} {percent(tax.rate)}% per line, rounded to {currency_exponent(currency)} decimals ({currency})."


def build_billing_schedule(
    contract: Contract,
    staffing: list[StaffingNeed],
    *,
    rules: BillingRules,
    tax: TaxRule,
    customer_country: str,
    supplier_country: str | None = None,
) -> BillingSchedule:
    """One line per invoice the contract implies, with tax per line.

    milestone: one line per milestone on its due date. fixed_fee: rules.fixed_fee_installments
    equal installments over the term, remainder on the last. retainer: monthlyFee per service
    period (monthly, anchored on the start date); fee x periods must be the contract value.
    time_and_materials: estimates per service period in arrears from staffing hours x rate card,
    capped by notToExceed. No line is for zero.
    """
    if contract.end_date < contract.start_date:
        raise ValueError(f"contract ends {contract.end_date} before it starts {contract.start_date}")
    currency = contract.value.currency
    drafts = _BUILDERS[contract.type](contract, staffing, rules)
    if any(d.amount < 0 for d in drafts):
        raise ValueError(f"a {contract.type} schedule for {contract.value} would need a negative line")
    # An invoice for nothing is noise for the customer and for accounts receivable (a T&M month
    # after the cap is consumed, a period nobody is staffed in): such lines are left out.
    drafts = [d for d in drafts if d.amount != 0]
    if not drafts:
        raise ValueError(f"a {contract.type} schedule for {contract.value} would have no line to bill")
    total = quantize(sum((d.amount for d in drafts), Decimal(0)), currency)
    if contract.type != "time_and_materials" and total != contract.value.value:
        raise ValueError(f"{contract.type} lines total {total:f} {currency}, the contract value is {contract.value}")

    reverse = is_reverse_charge(tax, customer_country, supplier_country)
    lines = [
        BillingLine(
            seq=seq,
            description=d.description,
            amount=quantize(d.amount, currency),
            tax=quantize(Decimal(0) if reverse else d.amount * tax.rate, currency),
            due_date=d.due_date,
            trigger=d.trigger,
            estimate=d.estimate,
        )
        for seq, d in enumerate(drafts, 1)
    ]
    return BillingSchedule(
        contract_type=contract.type,
        currency=currency,
        total=total,
        lines=lines,
        tax_note=_tax_note(tax, reverse, customer_country, supplier_country, currency),
    )
