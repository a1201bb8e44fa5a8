from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handoff.adapters.playbook_files import load_playbook
from handoff.contracts import ClosedWonEvent, ExceptionEntry, parse_event
from handoff.domain.playbooks import ExceptionPolicy, Playbook
from handoff.domain.readiness import STEP, check_readiness
from tests.support.fixtures import fixture_files, fixture_path, load_raw

EMEA = "emea-milestone-erp-rollout"  # milestone, EUR, DE, subcontractor
APAC = "apac-time-and-materials"  # time and materials, AUD, AU
ADVISORY = "us-fixed-fee-advisory"  # fixed fee, USD, US
RETAINER = "us-retainer-managed-services"


def raw(name: str, kind: str = "closed-won") -> dict[str, Any]:
    return load_raw(kind, name)


def deal(name: str, change: Callable[[dict[str, Any]], Any] | None = None) -> ClosedWonEvent:
    data = raw(name)
    if change:
        change(data["detail"])
    return parse_event(data)


def playbook_for(event: ClosedWonEvent) -> Playbook:
    d = event.detail
    return load_playbook(d.opportunity.service_line, region=d.opportunity.region, country=d.account.country,
                         contract_type=d.contract.type)


def check(event: ClosedWonEvent, playbook: Playbook | None = None, **options: Any) -> list[ExceptionEntry]:
    return check_readiness(event, playbook or playbook_for(event), **options)


def found(entries: list[ExceptionEntry]) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in entries]


def money(value: str, currency: str) -> dict[str, str]:
    return {"value": value, "currency": currency}


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", fixture_files("closed-won"), ids=lambda p: p.stem)
def test_closed_won_examples_are_ready(path: Path) -> None:
    event = parse_event(path.read_text())
    entries = check(event)
    assert [e for e in entries if e.severity == "BLOCKING"] == []
    assert entries == []


@pytest.mark.parametrize(
    ("name", "code", "field", "says"),
    [
        ("unsigned-contract", "CONTRACT_NOT_SIGNED", "contract.status", "'in_review', not signed"),
        ("milestones-do-not-sum", "MILESTONES_MISMATCH", "contract.milestones", "80,000.00 USD"),
        ("missing-tax-id", "INVALID_TAX_ID", "account.taxId", "missing"),
    ],
)
def test_needs_fix_examples_are_blocked_with_the_field_to_fix(name: str, code: str, field: str, says: str) -> None:
    event = parse_event(fixture_path("needs-fix", name).read_text())
    entries = check(event)
    assert found(entries) == [(code, field)]
    (entry,) = entries
    assert entry.severity == "BLOCKING"
    assert entry.step == STEP == "ValidateReadiness"
    assert says in entry.message


def test_every_needs_fix_example_is_blocked() -> None:
    paths = fixture_files("needs-fix")
    assert len(paths) == 3
    for path in paths:
        entries = check(parse_event(path.read_text()))
        assert any(e.severity == "BLOCKING" for e in entries), path.name


# --- required data ------------------------------------------------------------------------------


def test_required_fields_empty_or_missing() -> None:
    def change(d: dict) -> None:
        d["scope"]["summary"] = "   "
        d["staffing"] = []
        del d["contract"]["signedAt"]

    entries = check(deal(ADVISORY, change))
    assert found(entries) == [
        ("MISSING_FIELD", "contract.signedAt"),
        ("MISSING_FIELD", "scope.summary"),
        ("MISSING_FIELD", "staffing"),
    ]
    assert all(e.severity == "BLOCKING" for e in entries)
    assert "required by the Advisory playbook" in entries[1].message


def test_required_paths_reach_into_lists_and_extra_crm_fields() -> None:
    event = deal(EMEA, lambda d: (d["staffing"][1].update(skills=[]), d["opportunity"].update(poNumber="")))
    playbook = playbook_for(event).model_copy(
        update={"required_fields": ["staffing.skills", "opportunity.poNumber", "account.billingAddress.line2",
                                    "opportunity.costCode"]})
    assert found(check(event, playbook)) == [
        ("MISSING_FIELD", "staffing[1].skills"),
        ("MISSING_FIELD", "opportunity.poNumber"),
        ("MISSING_FIELD", "account.billingAddress.line2"),
        ("MISSING_FIELD", "opportunity.costCode"),
    ]


def test_an_unsigned_contract_is_not_also_missing_its_signature_date() -> None:
    event = deal(EMEA, lambda d: (d["contract"].update(status="draft"), d["contract"].pop("signedAt")))
    assert found(check(event)) == [("CONTRACT_NOT_SIGNED", "contract.status")]
    assert "'draft'" in check(event)[0].message


# --- money --------------------------------------------------------------------------------------------


def test_opportunity_amount_must_equal_the_contract_value_to_the_cent() -> None:
    entries = check(deal(ADVISORY, lambda d: d["opportunity"].update(amount=money("85000.01", "USD"))))
    assert found(entries) == [("AMOUNT_MISMATCH", "opportunity.amount")]
    assert "by 0.01 USD" in entries[0].message


def test_milestones_a_cent_short_after_rounding_thirds() -> None:
    def change(d: dict) -> None:
        for key in ("value",):
            d["contract"][key] = money("100000.00", "EUR")
        d["opportunity"]["amount"] = money("100000.00", "EUR")
        d["contract"]["milestones"] = d["contract"]["milestones"][:3]
        for m in d["contract"]["milestones"]:
            m["amount"] = money("33333.33", "EUR")

    entries = check(deal(EMEA, change))
    assert found(entries) == [("MILESTONES_MISMATCH", "contract.milestones")]
    assert "99,999.99 EUR, 0.01 EUR short of the contract value 100,000.00 EUR" in entries[0].message


def test_milestones_over_the_value_say_so() -> None:
    entries = check(deal(EMEA, lambda d: d["contract"]["milestones"][0].update(amount=money("96000.50", "EUR"))))
    assert found(entries) == [("MILESTONES_MISMATCH", "contract.milestones")]
    assert "0.50 EUR over" in entries[0].message


@pytest.mark.parametrize(
    ("currency", "value", "parts", "gap"),
    [
        ("JPY", "1000000", ["333333", "333333", "333334"], None),
        ("JPY", "1000000", ["333333", "333333", "333333"], "1 JPY short"),
        ("BHD", "10000.000", ["3333.333", "3333.333", "3333.334"], None),
        ("BHD", "10000.000", ["3333.333", "3333.333", "3333.333"], "0.001 BHD short"),
        ("BHD", "10000", ["3333.333", "3333.333", "3333.334"], None),  # "10000" is 10000.000 BHD
    ],
)
def test_milestone_sums_in_zero_and_three_decimal_currencies(currency: str, value: str, parts: list[str],
                                                              gap: str | None) -> None:
    def change(d: dict) -> None:
        d["opportunity"]["amount"] = money(value, currency)
        d["contract"]["value"] = money(value, currency)
        d["contract"]["milestones"] = d["contract"]["milestones"][:3]
        for m, part in zip(d["contract"]["milestones"], parts, strict=True):
            m["amount"] = money(part, currency)

    entries = check(deal(EMEA, change))
    if gap is None:
        assert entries == []
    else:
        assert found(entries) == [("MILESTONES_MISMATCH", "contract.milestones")]
        assert gap in entries[0].message


def test_fixed_fee_payment_milestones_must_also_sum() -> None:
    def change(d: dict) -> None:
        d["contract"]["milestones"] = [
            {"id": "P1", "name": "Kick-off", "amount": money("40000.00", "USD"), "dueDate": "2026-12-01"},
            {"id": "P2", "name": "Final", "amount": money("40000.00", "USD"), "dueDate": "2027-02-26"},
        ]

    assert found(check(deal(ADVISORY, change))) == [("MILESTONES_MISMATCH", "contract.milestones")]


def test_one_currency_throughout() -> None:
    def change(d: dict) -> None:
        d["contract"]["milestones"][1]["amount"] = money("144000.00", "USD")
        d["subcontractors"][0]["cost"] = money("41000.00", "CHF")  # a vendor may be paid in its own currency

    entries = check(deal(EMEA, change))
    # No milestone sum across currencies: the currency is what to fix.
    assert found(entries) == [("CURRENCY_MISMATCH", "contract.milestones[1].amount")]
    assert "Milestone M2 is in USD but the contract value is in EUR" in entries[0].message
    assert entries[0].severity == "BLOCKING"


def test_rate_card_and_cap_currencies_are_checked() -> None:
    def change(d: dict) -> None:
        d["contract"]["rateCard"][1]["rate"] = money("120.00", "USD")
        d["contract"]["notToExceed"] = money("312000.00", "USD")
        d["opportunity"]["amount"] = money("312000.00", "USD")

    assert found(check(deal(APAC, change))) == [
        ("CURRENCY_MISMATCH", "opportunity.amount"),
        ("CURRENCY_MISMATCH", "contract.rateCard[1].rate"),
        ("CURRENCY_MISMATCH", "contract.notToExceed"),
    ]


def test_retainer_fee_currency_is_checked() -> None:
    entries = check(deal(RETAINER, lambda d: d["contract"].update(monthlyFee=money("12000.00", "CAD"))))
    assert found(entries) == [("CURRENCY_MISMATCH", "contract.monthlyFee")]


def test_time_and_materials_value_above_the_cap() -> None:
    entries = check(deal(APAC, lambda d: d["contract"].update(notToExceed=money("300000.00", "AUD"))))
    assert found(entries) == [("AMOUNT_MISMATCH", "contract.notToExceed")]
    assert "above the not-to-exceed cap 300,000.00 AUD" in entries[0].message


# --- dates --------------------------------------------------------------------------------------------


def test_contract_ending_before_it_starts_is_reported_once() -> None:
    entries = check(deal(ADVISORY, lambda d: d["contract"].update(endDate="2026-11-30")))
    assert found(entries) == [("DATES_INCOHERENT", "contract.endDate")]
    assert "ends on 2026-11-30, before it starts on 2026-12-01" in entries[0].message


def test_contract_may_not_start_before_the_close_date() -> None:
    def change(d: dict) -> None:
        d["contract"]["startDate"] = "2026-11-17"
        d["scope"]["phases"][0]["start"] = "2026-11-17"

    assert found(check(deal(ADVISORY, change))) == [("DATES_INCOHERENT", "contract.startDate")]
    same_day = deal(ADVISORY, lambda d: (d["contract"].update(startDate="2026-11-18"),
                                         d["scope"]["phases"][0].update(start="2026-11-18")))
    assert check(same_day) == []


def test_milestones_phases_and_staffing_inside_the_term() -> None:
    def change(d: dict) -> None:
        d["contract"]["milestones"][3]["dueDate"] = "2027-10-01"
        d["scope"]["phases"][0]["start"] = "2027-01-03"
        d["scope"]["phases"][2]["end"] = "2027-05-31"  # ends before it starts
        d["staffing"][2]["startDate"] = "2026-12-31"

    entries = check(deal(EMEA, change))
    assert found(entries) == [
        ("DATES_INCOHERENT", "contract.milestones[3].dueDate"),
        ("DATES_INCOHERENT", "scope.phases[0]"),
        ("DATES_INCOHERENT", "scope.phases[2].end"),
        ("DATES_INCOHERENT", "staffing[2].startDate"),
    ]
    assert "Milestone M4 is due on 2027-10-01, outside the contract term 2027-01-04 to 2027-09-30" in entries[0].message


@pytest.mark.parametrize(("due", "inside"), [("2028-02-29", True), ("2028-03-01", False), ("2028-01-03", True)])
def test_leap_day_term_end(due: str, inside: bool) -> None:
    def change(d: dict) -> None:
        d["contract"].update(startDate="2028-01-03", endDate="2028-02-29")
        d["contract"]["milestones"] = [
            {"id": "M1", "name": "Start", "amount": money("240000.00", "EUR"), "dueDate": "2028-01-31"},
            {"id": "M2", "name": "End", "amount": money("240000.00", "EUR"), "dueDate": due},
        ]
        d["scope"]["phases"] = [{"name": "All", "start": "2028-01-03", "end": "2028-02-29"}]
        for need in d["staffing"]:
            need["startDate"] = "2028-01-03"

    entries = check(deal(EMEA, change))
    assert found(entries) == ([] if inside else [("DATES_INCOHERENT", "contract.milestones[1].dueDate")])


def test_a_term_that_already_ended_is_judged_against_today() -> None:
    event = deal(RETAINER)
    assert check(event) == []  # today defaults to the event's own date: replays judge alike
    assert check(event, today=date(2027, 12, 31)) == []
    entries = check(event, today=date(2028, 1, 1))
    assert found(entries) == [("DATES_INCOHERENT", "contract.endDate")]
    assert "ended on 2027-12-31, before today (2028-01-01)" in entries[0].message


@pytest.mark.parametrize(
    ("occurred_at", "close_date", "coherent"),
    [
        ("2026-11-21T03:47:02Z", "2026-11-21", True),
        ("2026-11-20T23:30:00-05:00", "2026-11-21", True),  # already the 21st in UTC
        ("2026-11-21T08:00:00+09:00", "2026-11-21", True),  # Tokyo: still the 20th in UTC
        ("2026-11-20T10:00:00Z", "2026-11-21", True),  # midnight in Kiribati (UTC+14)
        ("2026-11-20T09:59:59Z", "2026-11-21", False),  # the 21st has begun nowhere yet
        ("2026-11-20T20:00:00-10:00", "2026-11-22", False),
        ("2026-11-21T03:47:02Z", "2026-10-01", True),  # closing earlier than the event is fine
    ],
)
def test_close_date_against_occurred_at_across_time_zones(occurred_at: str, close_date: str, coherent: bool) -> None:
    def change(d: dict) -> None:
        d["occurredAt"] = occurred_at
        d["opportunity"]["closeDate"] = close_date

    entries = check(deal(APAC, change))
    assert found(entries) == ([] if coherent else [("DATES_INCOHERENT", "opportunity.closeDate")])


# --- rate card, tax ids, vendors, payment terms ----------------------------------------------------------


def test_every_staffed_role_needs_a_rate_on_time_and_materials() -> None:
    def change(d: dict) -> None:
        d["staffing"][1]["role"] = "  data engineer "  # same role, other spelling
        extra = {"role": "QA Engineer", "skills": ["pytest"], "hours": 80, "startDate": "2027-02-01", "location": "SG"}
        d["staffing"] += [extra, {**extra, "hours": 40}]

    entries = check(deal(APAC, change))
    assert found(entries) == [("RATE_CARD_GAP", "contract.rateCard")]  # one per missing role
    assert "'QA Engineer' (staffing[2]) has no rate on the rate card" in entries[0].message
    assert entries[0].severity == "BLOCKING"


def test_rate_card_is_not_required_for_fixed_fee() -> None:
    assert check(deal(ADVISORY, lambda d: d["staffing"][0].update(role="Partner"))) == []


@pytest.mark.parametrize(
    ("name", "tax_id", "says"),
    [
        (EMEA, "DE811907981", "'…981' is malformed: not a valid EU VAT number for DE (check digits"),
        (EMEA, "FR40303265045", "prefix FR does not match"),
        (APAC, "51 824 753 557", "not a valid ABN for AU"),
        (ADVISORY, "07-1234567", "not a valid EIN for US (the prefix has never been issued"),
        (RETAINER, "3676-54321", "NN-NNNNNNN"),
    ],
)
def test_malformed_tax_ids(name: str, tax_id: str, says: str) -> None:
    entries = check(deal(name, lambda d: d["account"].update(taxId=tax_id)))
    assert found(entries) == [("INVALID_TAX_ID", "account.taxId")]
    assert says in entries[0].message
    assert tax_id not in entries[0].message and tax_id.replace(" ", "") not in entries[0].message
    assert entries[0].severity == "BLOCKING"


@pytest.mark.parametrize("tax_id", [None, "", "  "])
def test_missing_tax_id_where_the_country_requires_one(tax_id: str | None) -> None:
    entries = check(deal(ADVISORY, lambda d: d["account"].update(taxId=tax_id)))
    assert found(entries) == [("INVALID_TAX_ID", "account.taxId")]
    assert entries[0].message.startswith("The tax id is missing: customers in US need a valid EIN")


def test_tax_id_optional_where_the_rule_does_not_require_it() -> None:
    def to_singapore(d: dict) -> None:
        d["account"]["country"] = "SG"
        d["account"]["taxId"] = None

    event = deal(APAC, to_singapore)
    playbook = playbook_for(event)
    assert check(event, playbook) == []
    # Unless the playbook lists the field itself.
    strict = playbook.model_copy(update={"required_fields": [*playbook.required_fields, "account.taxId"]})
    assert found(check(event, strict)) == [("INVALID_TAX_ID", "account.taxId")]


def test_a_country_without_tax_rule_is_blocked_for_the_playbook() -> None:
    entries = check(deal(ADVISORY, lambda d: d["account"].update(country="KE", taxId="P051234567X")))
    assert found(entries) == [("UNKNOWN_PLAYBOOK", "account.country")]
    assert "no tax rule for customer country KE" in entries[0].message


def test_subcontractor_vendor_must_be_known() -> None:
    event = deal(EMEA)
    assert check(event, known_vendor_ids={"V-FR-0042"}) == []
    entries = check(event, known_vendor_ids={"V-DE-0001"})
    assert found(entries) == [("UNKNOWN_VENDOR", "subcontractors[0].vendorId")]
    assert entries[0].severity == "WARNING"
    assert "'V-FR-0042' of subcontractor 'Paie Connect SAS' is not in the vendor master" in entries[0].message
    no_id = deal(EMEA, lambda d: d["subcontractors"][0].pop("vendorId"))
    entries = check(no_id)
    assert found(entries) == [("UNKNOWN_VENDOR", "subcontractors[0].vendorId")]
    assert "has no vendor id" in entries[0].message


def test_severity_comes_from_the_playbook() -> None:
    event = deal(EMEA, lambda d: d["subcontractors"][0].update(vendorId=" "))
    playbook = playbook_for(event)
    strict = playbook.model_copy(update={"exceptions": ExceptionPolicy(severities={"UNKNOWN_VENDOR": "BLOCKING"})})
    assert [e.severity for e in check(event, playbook)] == ["WARNING"]
    assert [e.severity for e in check(event, strict)] == ["BLOCKING"]


@pytest.mark.parametrize(("days", "flagged"), [(60, False), (61, True), (0, False)])
def test_payment_terms_beyond_the_playbook_maximum_warn(days: int, flagged: bool) -> None:
    entries = check(deal(EMEA, lambda d: d["contract"].update(paymentTermsDays=days)))
    if not flagged:
        assert entries == []
        return
    assert found(entries) == [("NON_STANDARD_CLAUSE", "contract.paymentTermsDays")]
    assert entries[0].severity == "WARNING"
    assert "61 days exceed the 60-day maximum" in entries[0].message


def test_problems_are_all_reported_in_a_stable_order() -> None:
    def change(d: dict) -> None:
        d["contract"]["status"] = "in_review"
        d["account"]["taxId"] = "DE000"
        d["opportunity"]["amount"] = money("480000.10", "EUR")
        d["contract"]["paymentTermsDays"] = 90

    event = deal(EMEA, change)
    first = check(event)
    assert found(first) == [
        ("CONTRACT_NOT_SIGNED", "contract.status"),
        ("AMOUNT_MISMATCH", "opportunity.amount"),
        ("INVALID_TAX_ID", "account.taxId"),
        ("NON_STANDARD_CLAUSE", "contract.paymentTermsDays"),
    ]
    assert check(event) == first


def test_retainer_fee_times_periods_not_the_contract_value_blocks_naming_both_figures() -> None:
    def short(d: dict[str, Any]) -> None:
        d["contract"]["value"] = money("143500.00", "USD")
        d["opportunity"]["amount"] = money("143500.00", "USD")

    entries = check(deal(RETAINER, short))
    assert found(entries) == [("AMOUNT_MISMATCH", "contract.monthlyFee")]
    assert entries[0].severity == "BLOCKING"
    assert "12 monthly service periods" in entries[0].message
    assert "is 144,000.00 USD" in entries[0].message and "contract value is 143,500.00 USD" in entries[0].message


def test_retainer_periods_anchored_mid_month_agree_with_a_matching_value() -> None:
    def mid_month(d: dict[str, Any]) -> None:
        d["contract"]["startDate"], d["contract"]["endDate"] = "2027-01-15", "2028-01-14"

    assert [e for e in check(deal(RETAINER, mid_month)) if e.field == "contract.monthlyFee"] == []
