"""Mismatches between the deal's free text and its structured fields: an amount, currency, date,
country or payment period the text names that the structured deal does not have. WARNINGs only;
anything the structured deal confirms is fine."""

import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from handoff.contracts import ExceptionEntry, Money
from handoff.contracts.event import ClosedWonDetail
from handoff.domain.clause_rules import payment_days, sentences
from handoff.domain.intelligence import warning
from handoff.domain.mentions import amount_mentions, country_mentions, currency_mentions, date_mentions

_I = re.IGNORECASE
MISMATCH_WEIGHT = {"amount": 10, "currency": 25, "date": 10, "country": 10, "payment_terms": 15}


def _monies(detail: ClosedWonDetail) -> list[Money]:
    c = detail.contract
    monies = [c.value, detail.opportunity.amount, *(m.amount for m in c.milestones), *(r.rate for r in c.rate_card),
              *(s.cost for s in detail.subcontractors)]
    monies += [m for m in (c.not_to_exceed, c.monthly_fee) if m is not None]
    if c.milestones and len({m.amount.currency for m in c.milestones}) == 1:
        total = sum((m.amount.value for m in c.milestones), Decimal(0))
        monies.append(Money.of(total, c.milestones[0].amount.currency))
    return monies


def _known_dates(detail: ClosedWonDetail) -> set[date]:
    c, s = detail.contract, detail.scope
    known = {c.start_date, c.end_date, detail.opportunity.close_date, detail.occurred_at.date()}
    known |= {m.due_date for m in c.milestones} | {p.start for p in s.phases} | {p.end for p in s.phases}
    known |= {n.start_date for n in detail.staffing}
    if c.signed_at:
        known.add(c.signed_at.date())
    return known


# Amounts in these sentences are caps, insurance or damages, not the price: only their currency is checked.
_NOT_PRICE = re.compile(r"liab|insur|indemn|damages|penalt|service credit", _I)


def _texts(detail: ClosedWonDetail) -> Iterator[tuple[str, str]]:
    yield "scope.summary", detail.scope.summary
    for i, clause in enumerate(detail.contract.clauses):
        yield f"contract.clauses[{i}].text", clause.text


def find_mismatches(detail: ClosedWonDetail) -> list[ExceptionEntry]:
    found: list[ExceptionEntry] = []
    for field, text in _texts(detail):
        found += _dedupe(_text_mismatches(detail, field, text))
    found += _payment_days_mismatches(detail)
    return found


def _dedupe(entries: Iterable[ExceptionEntry]) -> list[ExceptionEntry]:
    seen: dict[tuple[str | None, str], ExceptionEntry] = {}
    for e in entries:
        seen.setdefault((e.field, e.message), e)
    return list(seen.values())


def _text_mismatches(detail: ClosedWonDetail, field: str, text: str) -> Iterator[ExceptionEntry]:
    c = detail.contract
    monies = _monies(detail)
    deal_currencies = {m.currency for m in monies}
    amounts = amount_mentions(text)
    for a in amounts:
        same = [m for m in monies if m.currency in a.codes]
        if not same:
            yield warning("SCOPE_MISMATCH", f'{field} names "{a.quote}" but the contract is in {c.value.currency}',
                          field, MISMATCH_WEIGHT["currency"])
            continue
        sentence = next((s for s in sentences(text) if a.quote in s), text)
        if _NOT_PRICE.search(sentence) or any(abs(m.value - a.value) <= a.tolerance for m in same):
            continue
        ratio = min(Decimal(1), abs(a.value - c.value.value) / c.value.value) if c.value.value else Decimal(1)
        yield warning("SCOPE_MISMATCH",
                      f'{field} names "{a.quote}" but the contract value is {c.value} and no milestone, fee, rate '
                      f"or cost has that amount", field, MISMATCH_WEIGHT["amount"] + int(ratio * 30))
    spans = [(a.start, a.end) for a in amounts]
    for cur in currency_mentions(text):
        if any(s <= cur.start < e for s, e in spans) or cur.codes & deal_currencies:
            continue
        yield warning("SCOPE_MISMATCH", f'{field} names "{cur.quote}" but the contract is in {c.value.currency}',
                      field, MISMATCH_WEIGHT["currency"])
    known = _known_dates(detail)
    for quote, first, last in date_mentions(text):
        # Outside the term, unless the structured deal names a date in it (close date, signature).
        if (last < c.start_date or first > c.end_date) and not any(first <= k <= last for k in known):
            yield warning("SCOPE_MISMATCH", f'{field} names "{quote}", outside the contract term '
                          f"{c.start_date} to {c.end_date}", field, MISMATCH_WEIGHT["date"])
    allowed = set(detail.scope.countries) | {detail.account.country, detail.account.billing_address.country}
    for country in country_mentions(text):
        if not country.codes & allowed:
            code = ", ".join(sorted(country.codes))
            yield warning("SCOPE_MISMATCH", f'{field} names "{country.quote}" ({code}) but scope.countries is '
                          f"{', '.join(detail.scope.countries)} and the account is in {detail.account.country}",
                          field, MISMATCH_WEIGHT["country"])


def _payment_days_mismatches(detail: ClosedWonDetail) -> Iterator[ExceptionEntry]:
    """A payment clause that names a period other than contract.paymentTermsDays."""
    c = detail.contract
    for i, clause in enumerate(c.clauses):
        named = payment_days(clause.text)
        if named and named[0] != c.payment_terms_days:
            yield warning("SCOPE_MISMATCH", f"clause {clause.id} sets payment terms of {named[0]} days but "
                          f"contract.paymentTermsDays is {c.payment_terms_days}", f"contract.clauses[{i}].text",
                          MISMATCH_WEIGHT["payment_terms"])
