"""Readiness gates: what must hold before anything is created in a system of record.

Pure: the event and the playbook in, exceptions out (severity from the playbook). Each exception
names the field to fix as a dotted camelCase path into the event detail and says what to do."""

from collections.abc import Iterator
from datetime import UTC, date, timedelta, timezone
from decimal import Decimal
from typing import Any

from handoff.contracts import ClosedWonEvent, ExceptionEntry, Money
from handoff.contracts.event import ClosedWonDetail
from handoff.contracts.record import ExceptionCode
from handoff.domain.billing import retainer_mismatch
from handoff.domain.playbooks import Playbook
from handoff.domain.taxids import validate_tax_id

STEP = "ValidateReadiness"
TAX_ID_FIELD = "account.taxId"
SIGNED_AT_FIELD = "contract.signedAt"
# The easternmost time zone: a close date is plausible up to the calendar date there at occurredAt.
_LATEST_ZONE = timezone(timedelta(hours=14))
_TAX_ID_NAMES = {"EU_VAT": "EU VAT number", "GB_VAT": "UK VAT number", "AU_ABN": "ABN", "US_EIN": "EIN"}

Finding = tuple[ExceptionCode, str, str]  # code, field, message


def check_readiness(
    event: ClosedWonEvent,
    playbook: Playbook,
    *,
    known_vendor_ids: set[str] | None = None,
    today: date | None = None,
) -> list[ExceptionEntry]:
    """Every readiness problem of the deal, in a stable order.

    `today` defaults to the UTC date of occurredAt, so replaying an old event gives the same answer.
    `known_vendor_ids`: the vendor master's ids; None skips the lookup (only a missing id is flagged).
    """
    detail = event.detail
    today = today or detail.occurred_at.astimezone(UTC).date()
    findings = [
        *_required_fields(detail, playbook),
        *_signature(detail),
        *_currencies(detail),
        *_amounts(detail),
        *_dates(detail, today),
        *_rate_card(detail),
        *_tax(detail, playbook),
        *_vendors(detail, known_vendor_ids),
        *_payment_terms(detail, playbook),
    ]
    return [
        ExceptionEntry(code=code, severity=playbook.severity(code), message=message, step=STEP, field=field)
        for code, field, message in findings
    ]


def _money(money: Money | Decimal, currency: str | None = None) -> str:
    if isinstance(money, Money):
        return f"{money.value:,f} {money.currency}"
    return f"{money:,f} {currency}"


# --- required data ----------------------------------------------------------------------------


def _required_fields(detail: ClosedWonDetail, playbook: Playbook) -> Iterator[Finding]:
    data = detail.model_dump(mode="json", by_alias=True)
    signed = detail.contract.status == "signed"
    for path in playbook.required_fields:
        # The tax id has its own rule (missing vs malformed); an unsigned contract is reported as such.
        if path == TAX_ID_FIELD or (path == SIGNED_AT_FIELD and not signed):
            continue
        for field, value in _resolve(data, path.split("."), ""):
            if _empty(value):
                yield (
                    "MISSING_FIELD",
                    field,
                    f"{field} is required by the {playbook.name} playbook but is missing or empty; "
                    "fill it in on the CRM opportunity.",
                )


def _resolve(data: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for a dotted path; a list on the way applies the rest to each element."""
    if not parts:
        yield prefix, data
        return
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield from _resolve(item, parts, f"{prefix}[{i}]")
        return
    here = f"{prefix}.{parts[0]}" if prefix else parts[0]
    if not isinstance(data, dict):
        yield ".".join([here, *parts[1:]]), None
        return
    yield from _resolve(data.get(parts[0]), parts[1:], here)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, dict)) and not value
    )


def _signature(detail: ClosedWonDetail) -> Iterator[Finding]:
    contract = detail.contract
    if contract.status != "signed":
        yield (
            "CONTRACT_NOT_SIGNED",
            "contract.status",
            f"Contract {contract.id} is '{contract.status}', not signed. Get it signed in the contract system, "
            "then mark the opportunity closed-won again.",
        )


# --- money -----------------------------------------------------------------------------------


def _priced(detail: ClosedWonDetail) -> Iterator[tuple[str, str, Money]]:
    """(field, label, money) for every amount the customer is billed in; subcontractor costs are
    excluded: a vendor may rightly be paid in its own currency."""
    contract = detail.contract
    yield "opportunity.amount", "The opportunity amount", detail.opportunity.amount
    for i, m in enumerate(contract.milestones):
        yield f"contract.milestones[{i}].amount", f"Milestone {m.id}", m.amount
    for i, entry in enumerate(contract.rate_card):
        yield f"contract.rateCard[{i}].rate", f"The rate of {entry.role}", entry.rate
    if contract.not_to_exceed is not None:
        yield "contract.notToExceed", "The not-to-exceed cap", contract.not_to_exceed
    if contract.monthly_fee is not None:
        yield "contract.monthlyFee", "The monthly fee", contract.monthly_fee


def _currencies(detail: ClosedWonDetail) -> Iterator[Finding]:
    currency = detail.contract.value.currency
    for field, label, money in _priced(detail):
        if money.currency != currency:
            yield (
                "CURRENCY_MISMATCH",
                field,
                f"{label} is in {money.currency} but the contract value is in {currency}; "
                f"use {currency} throughout the deal (or correct the contract currency).",
            )


def _amounts(detail: ClosedWonDetail) -> Iterator[Finding]:
    contract, value = detail.contract, detail.contract.value
    amount = detail.opportunity.amount
    if amount.currency == value.currency and amount.value != value.value:
        yield (
            "AMOUNT_MISMATCH",
            "opportunity.amount",
            f"The opportunity amount {_money(amount)} differs from the contract value {_money(value)} "
            f"by {_money(abs(amount.value - value.value), value.currency)}; correct whichever is wrong so they agree.",
        )
    milestones = contract.milestones
    if contract.type in ("milestone", "fixed_fee") and milestones:
        if all(m.amount.currency == value.currency for m in milestones):
            total = sum((m.amount.value for m in milestones), Decimal(0))
            if total != value.value:
                gap = value.value - total
                direction = "short of" if gap > 0 else "over"
                yield (
                    "MILESTONES_MISMATCH",
                    "contract.milestones",
                    f"The {len(milestones)} milestones add up to {_money(total, value.currency)}, "
                    f"{_money(abs(gap), value.currency)} {direction} the contract value {_money(value)}; "
                    "fix the milestone amounts so they sum to the contract value exactly.",
                )
    fee = contract.monthly_fee
    mismatch = retainer_mismatch(contract) if fee is not None and fee.currency == value.currency else None
    if mismatch and fee is not None:
        periods, expected = mismatch
        yield (
            "AMOUNT_MISMATCH",
            "contract.monthlyFee",
            f"The monthly fee {_money(fee)} over the term's {periods} monthly service periods "
            f"({contract.start_date} to {contract.end_date}) is {_money(expected, value.currency)}, but the contract "
            f"value is {_money(value)}; correct the fee, the term or the contract value so they agree.",
        )
    cap = contract.not_to_exceed
    if contract.type == "time_and_materials" and cap and cap.currency == value.currency and value.value > cap.value:
        yield (
            "AMOUNT_MISMATCH",
            "contract.notToExceed",
            f"The contract value {_money(value)} is above the not-to-exceed cap {_money(cap)}; "
            "raise the cap or lower the contract value.",
        )


# --- dates -----------------------------------------------------------------------------------


def _dates(detail: ClosedWonDetail, today: date) -> Iterator[Finding]:
    contract, close = detail.contract, detail.opportunity.close_date
    start, end = contract.start_date, contract.end_date
    latest_close = detail.occurred_at.astimezone(_LATEST_ZONE).date()
    if close > latest_close:
        yield (
            "DATES_INCOHERENT",
            "opportunity.closeDate",
            f"The close date {close} is after the deal was marked closed-won "
            f"({detail.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC); correct the close date.",
        )
    if end < start:
        yield (
            "DATES_INCOHERENT",
            "contract.endDate",
            f"The contract ends on {end}, before it starts on {start}; correct the contract term.",
        )
        return  # nothing can be inside a term that does not exist
    if start < close:
        yield (
            "DATES_INCOHERENT",
            "contract.startDate",
            f"The contract starts on {start}, before the deal closed on {close}; "
            "correct the start date or the close date.",
        )
    if end < today:
        yield (
            "DATES_INCOHERENT",
            "contract.endDate",
            f"The contract term ended on {end}, before today ({today}); correct the contract term.",
        )
    term = f"the contract term {start} to {end}"

    def outside_term(field: str, first: date, last: date, what: str, fix: str) -> Iterator[Finding]:
        if first < start or last > end:
            yield "DATES_INCOHERENT", field, f"{what}, outside {term}; {fix}."

    for i, m in enumerate(contract.milestones):
        yield from outside_term(f"contract.milestones[{i}].dueDate", m.due_date, m.due_date,
                                f"Milestone {m.id} is due on {m.due_date}", "move it into the term")
    for i, phase in enumerate(detail.scope.phases):
        if phase.end < phase.start:
            yield (
                "DATES_INCOHERENT",
                f"scope.phases[{i}].end",
                f"Phase '{phase.name}' ends on {phase.end}, before it starts on {phase.start}; correct its dates.",
            )
        else:
            yield from outside_term(f"scope.phases[{i}]", phase.start, phase.end,
                                    f"Phase '{phase.name}' runs {phase.start} to {phase.end}",
                                    "correct the phase or the contract term")
    for i, need in enumerate(detail.staffing):
        yield from outside_term(f"staffing[{i}].startDate", need.start_date, need.start_date,
                                f"The {need.role} is needed from {need.start_date}", "correct the start date")


# --- rate card, tax, vendors, terms ------------------------------------------------------------


def _rate_card(detail: ClosedWonDetail) -> Iterator[Finding]:
    if detail.contract.type != "time_and_materials":
        return
    priced = {entry.role.strip().casefold() for entry in detail.contract.rate_card}
    reported: set[str] = set()
    for i, need in enumerate(detail.staffing):
        role = need.role.strip().casefold()
        if role not in priced and role not in reported:
            reported.add(role)
            yield (
                "RATE_CARD_GAP",
                "contract.rateCard",
                f"The staffed role '{need.role}' (staffing[{i}]) has no rate on the rate card; add a rate for it "
                "or use the role name the rate card has.",
            )


def _tax(detail: ClosedWonDetail, playbook: Playbook) -> Iterator[Finding]:
    account = detail.account
    country = account.country
    rule = playbook.tax_rules.get(country)
    if rule is None:
        yield (
            "UNKNOWN_PLAYBOOK",
            "account.country",
            f"The {playbook.name} playbook has no tax rule for customer country {country}: tax must add one "
            "before this deal can be billed (or correct account.country).",
        )
    required = (rule is not None and rule.tax_id_required) or TAX_ID_FIELD in playbook.required_fields
    check = validate_tax_id(country, account.tax_id)
    name = _TAX_ID_NAMES.get(check.scheme, "tax id")
    if check.missing and required:
        yield (
            "INVALID_TAX_ID",
            TAX_ID_FIELD,
            f"The tax id is missing: customers in {country} need a valid {name}. "
            "Add it to the CRM account.",
        )
    elif not check.missing and not check.valid:
        # Checked even where not required: a given id goes into the customer master and on invoices.
        yield (
            "INVALID_TAX_ID",
            TAX_ID_FIELD,
            # Only the last characters: exception texts travel by email and into queues and logs.
            f"The tax id ending in '{_tail(account.tax_id or '')}' is malformed: not a valid {name} for {country} "
            f"({check.reason}). Correct it on the CRM account.",
        )


def _tail(value: str, shown: int = 3) -> str:
    """The last `shown` characters of an identifier, enough to find it, too few to copy it."""
    compact = "".join(value.split())
    return "…" + compact[-shown:] if len(compact) > shown else "…"


def _vendors(detail: ClosedWonDetail, known: set[str] | None) -> Iterator[Finding]:
    for i, sub in enumerate(detail.subcontractors):
        vendor_id = (sub.vendor_id or "").strip()
        if not vendor_id:
            yield (
                "UNKNOWN_VENDOR",
                f"subcontractors[{i}].vendorId",
                f"Subcontractor '{sub.vendor}' has no vendor id; procurement must onboard the vendor "
                "and the id be added to the opportunity before a requisition can be raised.",
            )
        elif known is not None and vendor_id not in known:
            yield (
                "UNKNOWN_VENDOR",
                f"subcontractors[{i}].vendorId",
                f"Vendor id '{vendor_id}' of subcontractor '{sub.vendor}' is not in the vendor master; "
                "correct the id or have procurement onboard the vendor.",
            )


def _payment_terms(detail: ClosedWonDetail, playbook: Playbook) -> Iterator[Finding]:
    days, limit = detail.contract.payment_terms_days, playbook.billing.max_payment_terms_days
    # Contract v1 has no code of its own for this: a non-standard commercial term, a warning by default.
    if days > limit:
        yield (
            "NON_STANDARD_CLAUSE",
            "contract.paymentTermsDays",
            f"Payment terms of {days} days exceed the {limit}-day maximum of the {playbook.name} playbook; "
            "finance must accept them, or the contract be amended.",
        )

