"""Billing schedules for every contract type, from the closed-won fixtures and edge-case variants."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from handoff.contracts import BillingSchedule, ClosedWonEvent, Contract, StaffingNeed, parse_event
from handoff.domain.billing import build_billing_schedule, retainer_mismatch, working_days
from handoff.domain.policy import BillingRules, TaxRule
from tests.support.fixtures import fixture_path

NO_TAX = TaxRule(country="US", rate=Decimal(0), name="sales tax")
DE_VAT = TaxRule(country="DE", rate=Decimal("0.19"), tax_id_required=True, tax_id_scheme="EU_VAT",
                 reverse_charge_cross_border=True)


def load(name: str) -> ClosedWonEvent:
    return parse_event(fixture_path("closed-won", name).read_text())


def contract(name: str, **changes: Any) -> Contract:
    """The fixture's contract with camelCase fields replaced (money as {"value", "currency"} dicts)."""
    raw = load(name).detail.contract.model_dump(mode="json", by_alias=True)
    return Contract.model_validate({**raw, **changes})


def money(value: str, currency: str) -> dict[str, str]:
    return {"value": value, "currency": currency}


def need(role: str, hours: int, start: str) -> StaffingNeed:
    return StaffingNeed(role=role, skills=[], hours=hours, start_date=date.fromisoformat(start), location="AU")


def schedule(c: Contract, staffing: list[StaffingNeed] | None = None, *, rules: BillingRules | None = None,
             tax: TaxRule = NO_TAX, customer: str = "US", supplier: str | None = None) -> BillingSchedule:
    return build_billing_schedule(c, staffing or [], rules=rules or BillingRules(), tax=tax,
                                  customer_country=customer, supplier_country=supplier)


def amounts(s: BillingSchedule) -> list[Decimal]:
    return [line.amount for line in s.lines]


def dues(s: BillingSchedule) -> list[date | None]:
    return [line.due_date for line in s.lines]


# --- milestone -------------------------------------------------------------------------------

def test_emea_milestone_one_line_per_milestone_on_its_due_date() -> None:
    event = load("emea-milestone-erp-rollout")
    s = build_billing_schedule(event.detail.contract, event.detail.staffing, rules=BillingRules(), tax=DE_VAT,
                               customer_country="DE", supplier_country="DE")
    assert s.contract_type == "milestone" and s.currency == "EUR"
    assert amounts(s) == [Decimal("96000.00"), Decimal("144000.00"), Decimal("120000.00"), Decimal("120000.00")]
    assert s.total == sum(amounts(s)) == Decimal("480000.00")
    assert dues(s) == [date(2027, 2, 26), date(2027, 5, 28), date(2027, 7, 30), date(2027, 9, 30)]
    assert [line.seq for line in s.lines] == [1, 2, 3, 4]
    assert s.lines[0].description == "M1 - Mobilisation and blueprint sign-off"
    # Domestic German supply: 19 % VAT on each line.
    assert [line.tax for line in s.lines] == [Decimal("18240.00"), Decimal("27360.00"), Decimal("22800.00"),
                                              Decimal("22800.00")]
    assert not any(line.estimate for line in s.lines)
    assert "19%" in (s.tax_note or "")


def test_milestones_are_billed_in_due_date_order() -> None:
    c = contract("emea-milestone-erp-rollout", milestones=[
        {"id": "M2", "name": "Late", "amount": money("300000.00", "EUR"), "dueDate": "2027-09-30"},
        {"id": "M1", "name": "Early", "amount": money("180000.00", "EUR"), "dueDate": "2027-02-26"},
    ])
    s = schedule(c)
    assert [line.description for line in s.lines] == ["M1 - Early", "M2 - Late"]
    assert amounts(s) == [Decimal("180000.00"), Decimal("300000.00")]


def test_milestones_that_do_not_sum_to_the_contract_value_are_refused() -> None:
    c = contract("emea-milestone-erp-rollout", value=money("500000.00", "EUR"))
    with pytest.raises(ValueError, match="480000.00 EUR.*500000.00 EUR"):
        schedule(c)


def test_milestone_in_another_currency_is_refused() -> None:
    c = contract("emea-milestone-erp-rollout", milestones=[
        {"id": "M1", "name": "All", "amount": money("480000.00", "USD"), "dueDate": "2027-09-30"},
    ])
    with pytest.raises(ValueError, match="milestone M1 is in USD"):
        schedule(c)


# --- fixed fee -------------------------------------------------------------------------------

def test_us_fixed_fee_three_installments_remainder_on_last() -> None:
    event = load("us-fixed-fee-advisory")
    s = schedule(event.detail.contract, event.detail.staffing)
    assert amounts(s) == [Decimal("28333.33"), Decimal("28333.33"), Decimal("28333.34")]
    assert s.total == sum(amounts(s)) == Decimal("85000.00")
    # 88-day term split in three periods: Dec 1-29, Dec 30-Jan 27, Jan 28-Feb 26; billed at period end.
    assert dues(s) == [date(2026, 12, 29), date(2027, 1, 27), date(2027, 2, 26)]
    assert s.lines[2].description == "Fixed fee installment 3 of 3"
    assert [line.tax for line in s.lines] == [Decimal("0.00")] * 3


def test_fixed_fee_start_of_period_first_installment_on_start_date() -> None:
    c = load("us-fixed-fee-advisory").detail.contract
    s = schedule(c, rules=BillingRules(invoice_timing="start_of_period"))
    assert dues(s) == [date(2026, 12, 1), date(2026, 12, 30), date(2027, 1, 28)]


@pytest.mark.parametrize(("rounding", "expected"), [
    ("ROUND_HALF_UP", ["66.67", "66.67", "66.66"]),
    ("ROUND_DOWN", ["66.66", "66.66", "66.68"]),
])
def test_fixed_fee_rounding_mode_and_remainder(rounding: str, expected: list[str]) -> None:
    c = contract("us-fixed-fee-advisory", value=money("200.00", "USD"))
    s = schedule(c, rules=BillingRules(rounding=rounding))
    assert amounts(s) == [Decimal(v) for v in expected]
    assert s.total == Decimal("200.00")


def test_fixed_fee_half_even_vs_half_up_in_yen() -> None:
    c = contract("us-fixed-fee-advisory", value=money("5", "JPY"))
    assert amounts(schedule(c, rules=BillingRules(fixed_fee_installments=2))) == [Decimal(3), Decimal(2)]
    half_even = BillingRules(fixed_fee_installments=2, rounding="ROUND_HALF_EVEN")
    assert amounts(schedule(c, rules=half_even)) == [Decimal(2), Decimal(3)]


def test_fixed_fee_jpy_has_no_decimals() -> None:
    c = contract("us-fixed-fee-advisory", value=money("1000000", "JPY"))
    s = schedule(c, tax=TaxRule(country="JP", rate=Decimal("0.10"), name="consumption tax"), customer="JP")
    assert s.currency == "JPY"
    assert amounts(s) == [Decimal(333333), Decimal(333333), Decimal(333334)]
    assert all(line.amount.as_tuple().exponent == 0 for line in s.lines)
    # 10 % of 333333 is 33333.3 -> 33333 yen; of 333334, 33333.4 -> 33333.
    assert [line.tax for line in s.lines] == [Decimal(33333)] * 3
    assert s.total == Decimal(1000000)
    assert s.to_json_dict()["lines"][2]["amount"] == "333334"


@pytest.mark.parametrize("currency", ["BHD", "KWD"])
def test_fixed_fee_three_decimal_currencies(currency: str) -> None:
    c = contract("us-fixed-fee-advisory", value=money("10000.000", currency))
    s = schedule(c, tax=TaxRule(country="BH", rate=Decimal("0.10")), customer="BH")
    assert amounts(s) == [Decimal("3333.333"), Decimal("3333.333"), Decimal("3333.334")]
    assert [line.tax for line in s.lines] == [Decimal("333.333")] * 3
    assert s.total == Decimal("10000.000")
    assert s.to_json_dict()["total"] == "10000.000"


def test_fixed_fee_over_leap_february() -> None:
    c = contract("us-fixed-fee-advisory", startDate="2028-01-01", endDate="2028-03-31",
                 value=money("90000.00", "USD"))
    s = schedule(c)
    # 91 days (Feb 2028 has 29): periods Jan 1-30, Jan 31-Feb 29, Mar 1-31.
    assert dues(s) == [date(2028, 1, 30), date(2028, 2, 29), date(2028, 3, 31)]
    assert amounts(s) == [Decimal("30000.00")] * 3


def test_fixed_fee_single_installment() -> None:
    c = load("us-fixed-fee-advisory").detail.contract
    s = schedule(c, rules=BillingRules(fixed_fee_installments=1))
    assert amounts(s) == [Decimal("85000.00")] and dues(s) == [date(2027, 2, 26)]


# --- retainer --------------------------------------------------------------------------------

def test_us_retainer_twelve_monthly_lines() -> None:
    event = load("us-retainer-managed-services")
    s = schedule(event.detail.contract, event.detail.staffing)
    assert amounts(s) == [Decimal("12000.00")] * 12
    assert s.total == sum(amounts(s)) == Decimal("144000.00")
    assert dues(s)[0] == date(2027, 1, 31) and dues(s)[1] == date(2027, 2, 28) and dues(s)[-1] == date(2027, 12, 31)
    assert s.lines[0].description == "Retainer 2027-01"
    assert "adjusted" not in s.lines[-1].description


def test_retainer_start_of_period_and_leap_february() -> None:
    c = contract("us-retainer-managed-services", startDate="2028-01-01", endDate="2028-12-31")
    assert dues(schedule(c))[1] == date(2028, 2, 29)
    start = schedule(c, rules=BillingRules(invoice_timing="start_of_period"))
    assert dues(start)[:3] == [date(2028, 1, 1), date(2028, 2, 1), date(2028, 3, 1)]


def test_retainer_gap_to_contract_value_is_refused_naming_both_figures() -> None:
    # No line papers over a difference: readiness blocks the deal (AMOUNT_MISMATCH) instead.
    c = contract("us-retainer-managed-services", value=money("143500.00", "USD"))
    with pytest.raises(ValueError, match=r"12 x 12000.00 USD = 144000.00 USD is not the contract value 143500.00 USD"):
        schedule(c)


def test_retainer_kwd_three_decimals() -> None:
    c = contract("us-retainer-managed-services", value=money("15006.000", "KWD"),
                 monthlyFee=money("1250.500", "KWD"))
    s = schedule(c, customer="KW")
    assert amounts(s) == [Decimal("1250.500")] * 12
    assert s.total == Decimal("15006.000")


def test_retainer_periods_are_anchored_on_the_start_date() -> None:
    # Starting on the 15th bills the 15th to the 14th.
    c = contract("us-retainer-managed-services", startDate="2027-01-15", endDate="2027-04-14",
                 value=money("36000.00", "USD"))
    s = schedule(c)
    assert amounts(s) == [Decimal("12000.00")] * 3
    assert dues(s) == [date(2027, 2, 14), date(2027, 3, 14), date(2027, 4, 14)]
    assert [line.description for line in s.lines] == [
        "Retainer 2027-01-15 to 2027-02-14", "Retainer 2027-02-15 to 2027-03-14", "Retainer 2027-03-15 to 2027-04-14"]
    start = schedule(c, rules=BillingRules(invoice_timing="start_of_period"))
    assert dues(start) == [date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15)]


def test_retainer_month_end_start_follows_month_ends() -> None:
    # End-of-month convention: Jan 31 -> Feb 29 (leap) -> Mar 31 -> Apr 30.
    c = contract("us-retainer-managed-services", startDate="2028-01-31", endDate="2028-04-29",
                 value=money("36000.00", "USD"))
    s = schedule(c, rules=BillingRules(invoice_timing="start_of_period"))
    assert dues(s) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
    assert dues(schedule(c)) == [date(2028, 2, 28), date(2028, 3, 30), date(2028, 4, 29)]


def test_retainer_day_30_start_is_clipped_in_february_only() -> None:
    c = contract("us-retainer-managed-services", startDate="2027-01-30", endDate="2027-04-29",
                 value=money("36000.00", "USD"))
    assert dues(schedule(c, rules=BillingRules(invoice_timing="start_of_period"))) == [
        date(2027, 1, 30), date(2027, 2, 28), date(2027, 3, 30)]


def test_partial_last_period_counts_as_a_period() -> None:
    # Jan 15 - Feb 14, then Feb 15 - Mar 10 (the term ends inside the second period).
    c = contract("us-retainer-managed-services", startDate="2027-01-15", endDate="2027-03-10",
                 value=money("24000.00", "USD"))
    s = schedule(c)
    assert amounts(s) == [Decimal("12000.00")] * 2
    assert dues(s) == [date(2027, 2, 14), date(2027, 3, 10)]


def test_retainer_mismatch_helper() -> None:
    c = contract("us-retainer-managed-services", value=money("100000.00", "USD"))
    assert retainer_mismatch(c) == (12, Decimal("144000.00"))
    assert retainer_mismatch(load("us-retainer-managed-services").detail.contract) is None


# --- time and materials ----------------------------------------------------------------------

def test_apac_time_and_materials_monthly_estimates_under_cap() -> None:
    event = load("apac-time-and-materials")
    s = schedule(event.detail.contract, event.detail.staffing, customer="AU",
                 tax=TaxRule(country="AU", rate=Decimal("0.10"), name="GST"))
    # Architect 480 h x 1950/8 = 117000.00; engineer 960 h x 185 = 177600.00.
    assert s.total == sum(amounts(s)) == Decimal("294600.00")
    assert s.total <= Decimal("312000.00")
    # Service periods anchored on the start date (Jan 11): Jan 11 - Feb 10, ..., Jun 11 - Jun 30.
    assert len(s.lines) == 6
    assert dues(s) == [date(2027, 2, 10), date(2027, 3, 10), date(2027, 4, 10), date(2027, 5, 10),
                       date(2027, 6, 10), date(2027, 6, 30)]
    assert all(line.estimate and line.trigger == "timesheet-approval" for line in s.lines)
    # First period: architect 23 of 123 working days (117000 -> 21878.05), engineer 18 of 118
    # (177600 -> 27091.53).
    assert s.lines[0].amount == Decimal("21878.05") + Decimal("27091.53") == Decimal("48969.58")
    # Feb 11 - Mar 10: 20 working days for both: 19024.39 + 30101.69.
    assert s.lines[1].amount == Decimal("49126.08")
    assert s.lines[0].tax == Decimal("4896.96")
    assert s.lines[0].description == "Time and materials 2027-01-11 to 2027-02-10 (estimate)"


def test_time_and_materials_cap_stops_billing_at_not_to_exceed() -> None:
    event = load("apac-time-and-materials")
    c = contract("apac-time-and-materials", notToExceed=money("100000.00", "AUD"))
    s = schedule(c, event.detail.staffing, customer="AU")
    # Periods after the cap is consumed bill nothing, so they have no line.
    assert amounts(s) == [Decimal("48969.58"), Decimal("49126.08"), Decimal("1904.34")]
    assert s.total == Decimal("100000.00")
    assert "capped by not-to-exceed 100000.00 AUD" in s.lines[2].description
    assert all(line.amount > 0 for line in s.lines)
    assert all(line.estimate for line in s.lines)


def test_time_and_materials_without_cap_bills_full_estimate() -> None:
    c = contract("apac-time-and-materials", notToExceed=None, value=money("100000.00", "AUD"))
    s = schedule(c, load("apac-time-and-materials").detail.staffing, customer="AU")
    assert s.total == Decimal("294600.00")


def test_time_and_materials_over_leap_february() -> None:
    c = contract("apac-time-and-materials", startDate="2028-01-01", endDate="2028-03-31", notToExceed=None,
                 rateCard=[{"role": "Data Engineer", "rate": money("100.00", "AUD"), "unit": "hour"}])
    s = schedule(c, [need("data engineer", 130, "2028-01-01")], customer="AU")
    # Working days: Jan 2028 21, Feb 2028 21 (29th is a Tuesday), Mar 2028 23 -> 65.
    assert working_days(date(2028, 2, 1), date(2028, 2, 29)) == 21
    assert amounts(s) == [Decimal("4200.00"), Decimal("4200.00"), Decimal("4600.00")]
    assert dues(s) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_time_and_materials_role_only_active_from_its_start() -> None:
    c = contract("apac-time-and-materials", startDate="2027-01-01", endDate="2027-03-31", notToExceed=None,
                 rateCard=[{"role": "Data Architect", "rate": money("800.00", "AUD"), "unit": "day"}])
    s = schedule(c, [need("Data Architect", 80, "2027-02-15")], customer="AU")
    # 80 h x 100/h = 8000; Feb 15-28 has 10 working days, March 23: January bills nothing, so it
    # has no line.
    assert amounts(s) == [Decimal("2424.24"), Decimal("5575.76")]
    assert s.total == Decimal("8000.00")


def test_time_and_materials_in_yen() -> None:
    c = contract("apac-time-and-materials", startDate="2027-03-01", endDate="2027-04-30",
                 value=money("1000000", "JPY"), notToExceed=money("1000000", "JPY"),
                 rateCard=[{"role": "Data Engineer", "rate": money("10001", "JPY"), "unit": "day"}])
    s = schedule(c, [need("Data Engineer", 40, "2027-03-01")], customer="JP")
    # 40 h x 10001/8 = 50005 yen, 23 and 22 working days.
    assert amounts(s) == [Decimal(25558), Decimal(24447)]
    assert s.total == Decimal(50005)


def test_time_and_materials_rate_card_gap_is_refused() -> None:
    c = load("apac-time-and-materials").detail.contract
    with pytest.raises(ValueError, match="'Project Manager' has no rate card entry"):
        schedule(c, [need("Project Manager", 10, "2027-01-11")])


# --- tax ------------------------------------------------------------------------------------

def test_reverse_charge_cross_border_eu() -> None:
    c = load("emea-milestone-erp-rollout").detail.contract
    s = schedule(c, tax=DE_VAT, customer="DE", supplier="FR")
    assert [line.tax for line in s.lines] == [Decimal("0.00")] * 4
    assert "reverse charge" in (s.tax_note or "").lower()
    assert s.total == Decimal("480000.00")


@pytest.mark.parametrize(("supplier", "rule"), [
    ("DE", DE_VAT),  # domestic
    (None, DE_VAT),  # supplier unknown: treated as domestic
    ("US", DE_VAT),  # not both in the EU
    ("FR", DE_VAT.model_copy(update={"reverse_charge_cross_border": False})),
])
def test_no_reverse_charge_otherwise(supplier: str | None, rule: TaxRule) -> None:
    s = schedule(load("emea-milestone-erp-rollout").detail.contract, tax=rule, customer="DE", supplier=supplier)
    assert s.lines[0].tax == Decimal("18240.00")
    assert "reverse" not in (s.tax_note or "").lower()


def test_tax_per_line_rounds_half_up_to_currency_precision() -> None:
    c = contract("emea-milestone-erp-rollout", value=money("20.20", "EUR"), milestones=[
        {"id": "M1", "name": "A", "amount": money("10.10", "EUR"), "dueDate": "2027-02-26"},
        {"id": "M2", "name": "B", "amount": money("10.10", "EUR"), "dueDate": "2027-09-30"},
    ])
    s = schedule(c, tax=TaxRule(country="LU", rate=Decimal("0.05")), customer="LU")
    assert [line.tax for line in s.lines] == [Decimal("0.51"), Decimal("0.51")]  # 0.505 each


def test_schedule_serialises_amounts_as_decimal_strings() -> None:
    s = schedule(load("us-fixed-fee-advisory").detail.contract)
    line = s.to_json_dict()["lines"][0]
    assert line == {"seq": 1, "description": "Fixed fee installment 1 of 3", "amount": "28333.33", "tax": "0.00",
                    "dueDate": "2026-12-29", "trigger": None, "estimate": False}
