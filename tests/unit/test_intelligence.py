import json
from pathlib import Path
from typing import Any

import pytest

from handoff.contracts import ClosedWonEvent, parse_event
from handoff.domain.intelligence import STEP, Analysis
from handoff.domain.offline_analyser import OfflineAnalyser
from tests.support.fixtures import FIXTURES, fixture_files

CLOSED_WON = fixture_files("closed-won")
EMEA = "closed-won/emea-milestone-erp-rollout.json"  # EUR 480,000, 2027-01-04..2027-09-30, DE + FR
APAC = "closed-won/apac-time-and-materials.json"  # AUD, AU + SG
US = "closed-won/us-fixed-fee-advisory.json"  # USD 85,000, US


def load(name: str, *, summary: str | None = None, clauses: list[tuple[str, str]] | None = None) -> ClosedWonEvent:
    raw: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    if summary is not None:
        raw["detail"]["scope"]["summary"] = summary
    if clauses is not None:
        raw["detail"]["contract"]["clauses"] = [
            {"id": f"C{i + 1}", "title": title, "text": text} for i, (title, text) in enumerate(clauses)
        ]
    return parse_event(raw)


def analyse(event: ClosedWonEvent, max_days: int = 60) -> Analysis:
    return OfflineAnalyser().analyse(event, max_payment_terms_days=max_days)


def codes(analysis: Analysis, code: str) -> list:
    return [e for e in analysis.exceptions if e.code == code]


# --- the shipped fixtures ----------------------------------------------------------------------


@pytest.mark.parametrize("path", CLOSED_WON, ids=lambda p: p.stem)
def test_closed_won_fixtures_raise_no_findings(path: Path) -> None:
    analysis = analyse(parse_event(path.read_text()))

    assert analysis.exceptions == []
    assert not analysis.has_non_standard_clauses
    assert analysis.priority_boost == 0


def test_emea_clauses_are_classified() -> None:
    analysis = analyse(load(EMEA))

    by_clause = {(f.clause_id, f.category, f.standard, f.field) for f in analysis.findings}
    assert by_clause == {
        ("C7", "liability_cap", True, "contract.clauses[0]"),
        ("C12", "data_residency", True, "contract.clauses[1]"),
    }
    assert "200%" in next(f.explanation for f in analysis.findings if f.clause_id == "C7")
    assert analysis.data_residency_regions == ["EEA"]


def test_analysis_round_trips_as_json() -> None:
    analysis = analyse(load(EMEA, clauses=[("Liability", "Liability shall be unlimited.")]))

    assert Analysis.model_validate(json.loads(json.dumps(analysis.to_json_dict()))) == analysis


# --- clause categories -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "category", "standard"),
    [
        ("Limitation of liability", "Total liability shall not exceed 100% of the fees paid.", "liability_cap", True),
        ("Limitation of liability", "Liability is capped at the fees paid. Liability for fraud or gross negligence "
                                    "is unlimited.", "liability_cap", True),
        ("Liability", "The Supplier's liability under this SOW shall be unlimited.", "unlimited_liability", False),
        ("Liability", "The Supplier shall be liable for all losses of the Customer.", "liability_cap", False),
        ("Termination", "The Customer may terminate this SOW for convenience on thirty (30) days' written notice.",
         "termination_for_convenience", True),
        ("Termination", "The Customer may terminate for convenience with immediate effect.",
         "termination_for_convenience", False),
        ("Termination", "The Customer may terminate for convenience on 10 days' notice.",
         "termination_for_convenience", False),
        ("Termination", "Either party may terminate immediately for material breach. The Customer may terminate for "
                        "convenience on 60 days' notice.", "termination_for_convenience", True),
        ("Intellectual property", "The Customer shall own all intellectual property in the deliverables, including "
                                  "the Supplier's pre-existing materials.", "ip_ownership", False),
        ("Intellectual property", "The Customer owns the deliverables; the Supplier retains its pre-existing IP.",
         "ip_ownership", True),
        ("Payment", "Invoices are payable within 90 days of receipt.", "payment_terms", False),
        ("Payment", "Invoices are payable within sixty (60) days of receipt.", "payment_terms", True),
        ("Fees", "The Supplier invoices monthly for 12 months; invoices are payable within 45 days.",
         "payment_terms", True),
        ("Delay", "The Supplier shall pay liquidated damages for each week of delay.",
         "penalties_liquidated_damages", False),
        ("Hosting", "Customer data shall be stored only in Germany.", "data_residency", True),
        ("Non-solicitation", "Neither party shall solicit the other's employees for twelve (12) months.",
         "non_solicitation", True),
        ("Non-solicitation", "Neither party shall solicit the other's employees for 24 months.",
         "non_solicitation", False),
        ("Confidentiality", "Each party shall keep the other's information confidential.", "other", True),
    ],
)
def test_clause_category(title: str, text: str, category: str, standard: bool) -> None:
    analysis = analyse(load(EMEA, clauses=[(title, text)]))

    assert [(f.category, f.standard) for f in analysis.findings] == [(category, standard)]
    flagged = codes(analysis, "NON_STANDARD_CLAUSE")
    assert analysis.has_non_standard_clauses is (not standard)
    assert len(flagged) == (0 if standard else 1)


def test_non_standard_clause_is_a_prioritised_warning_on_the_clause() -> None:
    analysis = analyse(load(EMEA, clauses=[("Confidentiality", "Kept confidential."),
                                           ("Liability", "The Supplier's liability shall be unlimited.")]))

    [entry] = analysis.exceptions
    assert (entry.code, entry.severity, entry.step, entry.field) == (
        "NON_STANDARD_CLAUSE", "WARNING", STEP, "contract.clauses[1]")
    assert "C2" in entry.message and "unlimited" in entry.message
    assert analysis.priority_boost == entry.priority > 0


def test_a_clause_can_fall_in_several_categories() -> None:
    analysis = analyse(load(EMEA, clauses=[(
        "Liability", "Liability shall not exceed the fees, excluding liquidated damages for late go-live.")]))

    assert {(f.category, f.standard) for f in analysis.findings} == {
        ("liability_cap", True), ("penalties_liquidated_damages", False)}


def test_without_penalty_is_not_a_penalty() -> None:
    analysis = analyse(load(EMEA, clauses=[(
        "Termination", "The Customer may terminate for convenience on 30 days' notice without penalty.")]))

    assert not analysis.has_non_standard_clauses


@pytest.mark.parametrize(("max_days", "standard"), [(60, False), (120, True)])
def test_payment_terms_follow_the_playbook_maximum(max_days: int, standard: bool) -> None:
    analysis = analyse(load(EMEA, clauses=[("Payment", "Payment terms: net 90.")]), max_days=max_days)

    assert [(f.category, f.standard) for f in analysis.findings] == [("payment_terms", standard)]


def test_payment_clause_without_days_uses_the_structured_terms() -> None:
    event = load(EMEA, clauses=[("Payment terms", "The Customer pays each milestone invoice by bank transfer.")])

    assert [f.standard for f in analyse(event, max_days=30).findings] == [False]  # paymentTermsDays is 45
    assert [f.standard for f in analyse(event, max_days=45).findings] == [True]


def test_data_residency_regions_are_reported() -> None:
    analysis = analyse(load(EMEA, clauses=[
        ("Hosting", "Customer data shall be stored only in Germany and shall not be transferred outside the EU."),
        ("Data processing", "Personal data shall be processed only within the European Economic Area."),
    ]))

    assert analysis.data_residency_regions == ["DE", "EU", "EEA"]
    assert analysis.exceptions == []


def test_priority_boost_is_capped() -> None:
    clause = ("Liability", "The Supplier's liability shall be unlimited.")
    analysis = analyse(load(EMEA, clauses=[clause] * 5))

    assert len(codes(analysis, "NON_STANDARD_CLAUSE")) == 5
    assert analysis.priority_boost == 100


# --- mismatches between text and structured fields -----------------------------------------------


def mismatches(event: ClosedWonEvent) -> list[tuple[str | None, str]]:
    return [(e.field, e.message) for e in codes(analyse(event), "SCOPE_MISMATCH")]


@pytest.mark.parametrize(
    ("name", "summary", "quote"),
    [
        (EMEA, "Rollout for Germany and France, EUR 500,000 in total.", "EUR 500,000"),
        (US, "Pricing assessment for $95k.", "$95k"),
        (EMEA, "Rollout for Germany and France, paid in USD.", "USD"),
        (EMEA, "Rollout for Germany and France worth USD 480,000.", "USD 480,000"),
        (EMEA, "Rollout for Germany and France, go-live in October 2027.", "October 2027"),
        (EMEA, "Rollout for Germany and France starting 2026-12-01.", "2026-12-01"),
        (EMEA, "Rollout for Germany, France and Spain.", "Spain"),
        (EMEA, "Rollout for Germany and France with a Spanish payroll interface.", "Spanish"),
        (APAC, "Data platform built by an offshore team in India.", "India"),
    ],
)
def test_summary_mismatch_quotes_the_text(name: str, summary: str, quote: str) -> None:
    found = mismatches(load(name, summary=summary))

    assert len(found) == 1
    field, message = found[0]
    assert field == "scope.summary"
    assert f'"{quote}"' in message


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        (EMEA, "Rollout for Germany and France: EUR 480,000, first milestone €96k, partner EUR 38,000."),
        (EMEA, "Two waves, 200% of the fees at risk, blueprint in March 2027, signed 2026-11-19."),
        (EMEA, "German-speaking and French-speaking consultants, hosted in the EEA."),
        (US, "Fixed fee of $85k, an 8-week U.S. assessment, ISO 27001 controls."),
        (APAC, "Sydney architect, team in Singapore, AUD 1,950 a day, A$312k cap, work in New South Wales."),
    ],
)
def test_consistent_text_is_not_flagged(name: str, summary: str) -> None:
    assert mismatches(load(name, summary=summary)) == []


def test_each_mismatch_is_reported_once_per_text() -> None:
    assert len(mismatches(load(EMEA, summary="Spain first, then Spain again."))) == 1


def test_clause_text_mismatch_names_the_clause_field() -> None:
    event = load(EMEA, clauses=[("Confidentiality", "Kept confidential."),
                                ("Fees", "The fees of GBP 400,000 are payable by milestone.")])

    [(field, message)] = mismatches(event)
    assert field == "contract.clauses[1].text"
    assert '"GBP 400,000"' in message


def test_caps_and_damages_are_not_compared_with_the_price() -> None:
    event = load(EMEA, clauses=[("Liability", "Total liability shall not exceed EUR 1,000,000.")])

    assert mismatches(event) == []


def test_payment_clause_that_contradicts_payment_terms_days() -> None:
    [(field, message)] = mismatches(load(EMEA, clauses=[("Payment", "Payment terms: net 30.")]))

    assert field == "contract.clauses[0].text"
    assert "30 days" in message and "45" in message


def test_mismatches_are_warnings_that_raise_priority() -> None:
    analysis = analyse(load(EMEA, summary="Rollout for Germany, France and Spain, EUR 900,000, paid in USD."))

    found = codes(analysis, "SCOPE_MISMATCH")
    assert len(found) == 3
    assert {e.severity for e in analysis.exceptions} == {"WARNING"}
    assert {e.step for e in analysis.exceptions} == {STEP}
    assert analysis.priority_boost == sum(e.priority for e in found)
    assert not analysis.has_non_standard_clauses
