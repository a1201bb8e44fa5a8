"""Approval routing, margin estimate, link signing and the deadline policy (pure domain)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from handoff.adapters.configuration import load_approver_directory
from handoff.contracts import ClosedWonEvent, parse_event
from handoff.domain.approvals import (
    ApprovalRequirement,
    ApproverDirectory,
    LinkCheck,
    MarginUnknown,
    approval_link,
    check_link,
    escalated_approval,
    estimate_margin,
    new_approval,
    next_action,
    required_approvals,
    sign,
    timeout_cause,
    verify,
)
from handoff.domain.policy import ApprovalDeadlines, ApprovalRules
from tests.support.fixtures import fixture_path

KEY = b"k" * 48
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DIRECTORY = load_approver_directory()


def load(name: str, **detail_changes: Any) -> ClosedWonEvent:
    raw = parse_event(fixture_path("closed-won", name).read_text()).model_dump(mode="json", by_alias=True)
    raw["detail"].update(detail_changes)
    return parse_event(raw)


def kinds(requirements: list[ApprovalRequirement]) -> list[str]:
    return [r.kind for r in requirements]


# --- the directory -------------------------------------------------------------------------------
def test_directory_picks_the_most_specific_route() -> None:
    assert DIRECTORY.route("procurement", "EMEA", "erp-implementation").approver.email == \
        "procurement-erp-emea@example-consulting.com"
    assert DIRECTORY.route("procurement", "EMEA", "advisory").approver.email == "procurement@example-consulting.com"
    assert DIRECTORY.route("finance", "AMER", "managed-services").approver.name == "Tom Becker"
    # region beats service line
    emea_finance = DIRECTORY.route("finance", "EMEA", "managed-services")
    assert emea_finance.approver.email == "finance-emea@example-consulting.com"
    route = DIRECTORY.route("legal", "AMER", "advisory")
    assert (route.approver.email, route.escalation.email) == (
        "legal-review@example-consulting.com", "general-counsel@example-consulting.com")


def test_directory_needs_a_fallback_per_kind_and_a_different_escalation() -> None:
    person = {"name": "A", "email": "a@example-consulting.com"}
    other = {"name": "B", "email": "b@example-consulting.com"}
    routes = {k: [{"region": "*", "serviceLine": "*", "approver": person, "escalation": other}]
              for k in ("legal", "finance", "compliance", "procurement")}
    ApproverDirectory.model_validate({"approvers": routes})
    with pytest.raises(ValidationError, match="procurement needs a route"):
        ApproverDirectory.model_validate({"approvers": {**routes, "procurement": [
            {"region": "EMEA", "approver": person, "escalation": other}]}})
    with pytest.raises(ValidationError, match="must be someone else"):
        ApproverDirectory.model_validate({"approvers": {**routes, "legal": [
            {"approver": person, "escalation": person}]}})


# --- routing on the fixtures ----------------------------------------------------------------------
def test_emea_erp_rollout_needs_compliance_and_procurement_but_not_legal() -> None:
    # Its clauses are a capped liability (standard) and EEA data residency: the analyser flags none.
    event = load("emea-milestone-erp-rollout")
    found = required_approvals(event, ApprovalRules(), DIRECTORY, non_standard_clauses=[], estimated_margin=None)
    assert kinds(found) == ["compliance", "procurement"]
    compliance, procurement = found
    assert "Personal data is processed in the EU/EEA (DE, FR)" in compliance.reason
    assert compliance.approver.email == "privacy-emea@example-consulting.com"
    assert compliance.escalation_approver.email == "chief-compliance@example-consulting.com"
    assert any("GDPR Art. 28" in c for c in compliance.checklist)
    assert any("Clause C12" in c and "European Economic Area" in c for c in compliance.checklist)
    assert any("Paie Connect SAS" in c and "sub-processor" in c for c in compliance.checklist)
    assert "Paie Connect SAS (38000.00 EUR)" in procurement.reason
    assert procurement.approver.email == "procurement-erp-emea@example-consulting.com"
    assert any("V-FR-0042" in c and "7.9 %" in c for c in procurement.checklist)


def test_flagged_clause_routes_to_legal_with_the_clause_text() -> None:
    event = load("emea-milestone-erp-rollout")
    found = required_approvals(event, ApprovalRules(), DIRECTORY, non_standard_clauses=["C7"], estimated_margin=None)
    assert kinds(found) == ["legal", "compliance", "procurement"]
    legal = found[0]
    assert legal.reason == "Non-standard contract clauses: C7 Limitation of liability."
    assert "200% of the fees" in legal.checklist[0]
    assert legal.approver.email == "legal-emea@example-consulting.com"
    off = ApprovalRules(legal_on_non_standard_clauses=False)
    assert "legal" not in kinds(required_approvals(event, off, DIRECTORY, non_standard_clauses=["C7"],
                                                   estimated_margin=None))


def test_us_advisory_needs_nothing_under_default_rules_and_finance_when_large() -> None:
    event = load("us-fixed-fee-advisory")
    assert required_approvals(event, ApprovalRules(), DIRECTORY, non_standard_clauses=[], estimated_margin=None) == []
    rules = ApprovalRules(finance_deal_value_over=Decimal(50000))
    [finance] = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=None)
    assert finance.kind == "finance"
    assert finance.reason == "Contract value 85000.00 USD is over the 50000 USD finance threshold."
    assert finance.approver.email == "deal-desk@example-consulting.com"


@pytest.mark.parametrize(("rates", "expected"), [
    ({"EUR": Decimal("1.10")}, "is over"),  # 528000 USD > 500000
    ({"EUR": Decimal("1.00")}, None),  # 480000 USD < 500000
    ({}, "cannot be compared"),  # no rate: route to finance rather than guess
])
def test_finance_threshold_in_another_currency(rates: dict, expected: str | None) -> None:
    event = load("emea-milestone-erp-rollout")
    rules = ApprovalRules(finance_deal_value_over=Decimal(500000), finance_currency="USD", finance_fx_rates=rates,
                          compliance_personal_data_eu=False, procurement_on_subcontractors=False)
    found = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=None)
    if expected is None:
        assert found == []
    else:
        assert kinds(found) == ["finance"] and expected in found[0].reason


def test_low_margin_routes_to_finance() -> None:
    event = load("emea-milestone-erp-rollout")
    margin = estimate_margin(event, {"engagement manager": Decimal(120), "Solution Architect": Decimal(110)},
                             Decimal(90), "EUR")
    # cost = 640*120 + 960*110 + 1200*90 + 38000 subcontractor = 328400; (480000 - 328400) / 480000
    assert margin == Decimal("0.3158")
    rules = ApprovalRules(finance_margin_below=Decimal("0.35"), compliance_personal_data_eu=False,
                          procurement_on_subcontractors=False)
    [finance] = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=margin)
    assert finance.reason == "Estimated margin 31.6 % is below the 35.0 % floor."
    assert required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=Decimal("0.4")) == []


def test_margin_is_unknown_when_a_subcontractor_is_priced_in_another_currency() -> None:
    event = load("emea-milestone-erp-rollout")
    sub = event.detail.subcontractors[0].model_dump(mode="json", by_alias=True)
    sub["cost"] = {"value": "38000.00", "currency": "USD"}
    changed = load("emea-milestone-erp-rollout", subcontractors=[sub])
    assert estimate_margin(changed, {}, Decimal(90), "EUR") == MarginUnknown(
        "subcontractors are priced in USD, the contract in EUR")


def test_an_unknown_margin_goes_to_finance_saying_why() -> None:
    event = load("emea-milestone-erp-rollout")
    margin = estimate_margin(event, {}, Decimal(90), "USD")  # cost rates in another currency than the deal
    assert margin == MarginUnknown("cost rates are in USD, the contract in EUR")
    rules = ApprovalRules(finance_margin_below=Decimal("0.30"), compliance_personal_data_eu=False,
                          procurement_on_subcontractors=False)
    [finance] = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=margin)
    assert finance.reason == ("The margin cannot be estimated against the 30.0 % floor: cost rates are in USD, "
                              "the contract in EUR.")
    # Without a margin floor there is nothing to check it against.
    no_floor = ApprovalRules(compliance_personal_data_eu=False, procurement_on_subcontractors=False)
    assert required_approvals(event, no_floor, DIRECTORY, non_standard_clauses=[], estimated_margin=margin) == []


def test_restricted_country_in_staffing_routes_to_compliance() -> None:
    event = load("apac-time-and-materials")  # an offshore team in Singapore
    assert required_approvals(event, ApprovalRules(), DIRECTORY, non_standard_clauses=[], estimated_margin=None) == []
    rules = ApprovalRules(compliance_restricted_countries=["sg"])
    [compliance] = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=None)
    assert compliance.reason == "Restricted countries involved: SG."
    assert "sanctions" in compliance.checklist[0]


def test_eu_work_without_personal_data_needs_no_compliance() -> None:
    event = load("emea-milestone-erp-rollout")
    contract = event.detail.contract.model_dump(mode="json", by_alias=True)
    contract["clauses"] = contract["clauses"][:1]  # only the liability cap
    scope = event.detail.scope.model_dump(mode="json", by_alias=True)
    scope["summary"] = "SAP S/4HANA finance rollout for Germany and France."
    changed = load("emea-milestone-erp-rollout", contract=contract, scope=scope)
    assert kinds(required_approvals(changed, ApprovalRules(), DIRECTORY, non_standard_clauses=[],
                                    estimated_margin=None)) == ["procurement"]


def test_requirement_round_trips_as_a_map_item_with_its_task_timeout() -> None:
    event = load("emea-milestone-erp-rollout")
    [requirement, _] = required_approvals(event, ApprovalRules(), DIRECTORY, non_standard_clauses=[],
                                          estimated_margin=None)
    item = requirement.model_dump(mode="json", by_alias=True)
    assert item["timeoutSeconds"] == (48 + 24 + 1) * 3600
    assert item["escalationApprover"]["email"] == "chief-compliance@example-consulting.com"
    assert ApprovalRequirement.model_validate(item) == requirement


# --- signed links --------------------------------------------------------------------------------
def test_signature_binds_id_approver_and_expiry() -> None:
    expires = T0 + timedelta(hours=48)
    sig = sign("ho-1.abc", "a@example.com", expires, KEY)
    assert verify("ho-1.abc", "A@Example.com", expires, sig, KEY, T0)  # addresses compare case-insensitively
    assert not verify("ho-1.abd", "a@example.com", expires, sig, KEY, T0)
    assert not verify("ho-1.abc", "b@example.com", expires, sig, KEY, T0)
    assert not verify("ho-1.abc", "a@example.com", expires + timedelta(seconds=1), sig, KEY, T0)
    assert not verify("ho-1.abc", "a@example.com", expires, sig, b"x" * 48, T0)
    assert "=" not in sig and "+" not in sig and "/" not in sig


def test_check_link_outcomes() -> None:
    expires = T0 + timedelta(hours=48)
    exp = str(int(expires.timestamp()))
    sig = sign("ho-1.abc", "a@example.com", expires, KEY)
    assert check_link("ho-1.abc", "a@example.com", exp, sig, KEY, T0) is LinkCheck.OK
    assert check_link("ho-1.abc", "a@example.com", exp, sig, KEY, expires) is LinkCheck.EXPIRED
    later = str(int(expires.timestamp()) + 86400)  # pushing the expiry out breaks the signature
    assert check_link("ho-1.abc", "a@example.com", later, sig, KEY, T0) is LinkCheck.TAMPERED
    flipped = sig[:10] + ("B" if sig[10] == "A" else "A") + sig[11:]
    assert check_link("ho-1.abc", "a@example.com", exp, flipped, KEY, T0) is LinkCheck.TAMPERED
    for bad_exp, bad_sig in [(None, sig), (exp, None), ("", sig), ("12x", sig), (exp, "é" * 43), (exp, "")]:
        assert check_link("ho-1.abc", "a@example.com", bad_exp, bad_sig, KEY, T0) is LinkCheck.TAMPERED
    forged = sign("ho-1.abc", "a@example.com", T0 - timedelta(hours=1), b"y" * 48)
    past = str(int((T0 - timedelta(hours=1)).timestamp()))
    assert check_link("ho-1.abc", "a@example.com", past, forged, KEY, T0) is LinkCheck.TAMPERED


# --- records and the deadline policy ---------------------------------------------------------------
def _approval(deadlines: ApprovalDeadlines = ApprovalDeadlines()) -> Any:
    event = load("emea-milestone-erp-rollout")
    rules = ApprovalRules(deadlines=deadlines)
    requirement = required_approvals(event, rules, DIRECTORY, non_standard_clauses=[], estimated_margin=None)[0]
    return new_approval("ho-0123456789abcdef.AAAAAAAAAAAA", "ho-0123456789abcdef", requirement, event,
                        "secret-task-token", T0)


def test_deadline_policy_reminds_once_escalates_then_expires() -> None:
    first = _approval()
    assert first.expires_at == T0 + timedelta(hours=48)
    assert first.remind_at == T0 + timedelta(hours=36)
    assert next_action(first, T0 + timedelta(hours=35)) is None
    assert next_action(first, T0 + timedelta(hours=36)) == "remind"
    reminded = first.model_copy(update={"reminded_at": T0 + timedelta(hours=36)})
    assert next_action(reminded, T0 + timedelta(hours=47)) is None
    assert next_action(reminded, T0 + timedelta(hours=48)) == "escalate"
    assert next_action(first, T0 + timedelta(hours=50)) == "escalate"  # a missed reminder never blocks escalation
    second = escalated_approval(reminded, "ho-0123456789abcdef.BBBBBBBBBBBB", T0 + timedelta(hours=48))
    assert (second.level, second.approver, second.previous_approver.email) == (
        1, "chief-compliance@example-consulting.com", "privacy-emea@example-consulting.com")
    assert second.task_token_ref == first.task_token_ref == first.approval_id  # the same task's token
    assert second.expires_at == T0 + timedelta(hours=72)
    assert second.remind_at == T0 + timedelta(hours=60) and second.reminded_at is None
    assert next_action(second, T0 + timedelta(hours=60)) == "remind"
    assert next_action(second, T0 + timedelta(hours=72)) == "expire"
    assert "privacy-emea@example-consulting.com" in timeout_cause(second)
    assert "chief-compliance@example-consulting.com" in timeout_cause(second)
    assert next_action(second.model_copy(update={"status": "APPROVED"}), T0 + timedelta(hours=99)) is None
    assert next_action(first.model_copy(update={"escalation_approver": None}), T0 + timedelta(hours=48)) == "expire"


def test_no_reminder_when_the_window_is_shorter_than_the_reminder_lead() -> None:
    short = _approval(ApprovalDeadlines(respond_within_hours=Decimal(8), remind_before_hours=Decimal(12)))
    assert short.remind_at is None
    assert next_action(short, T0 + timedelta(hours=7)) is None


def test_task_token_is_not_in_the_approval_nor_its_reprs_and_links() -> None:
    approval = _approval()
    assert approval.task_token is None and approval.task_token_ref == approval.approval_id
    legacy = approval.model_copy(update={"task_token": SecretStr("secret-task-token")})  # stored before the token table
    assert "secret-task-token" not in repr(legacy) and "secret-task-token" not in str(legacy)
    assert "secret-task-token" not in repr(approval) and "secret-task-token" not in str(approval)
    assert "secret-task-token" not in approval.model_dump_json()
    link = approval_link("https://api.example.com/v1/", approval, KEY)
    assert link.startswith("https://api.example.com/v1/approvals/ho-0123456789abcdef.AAAAAAAAAAAA?exp=")
    assert "secret-task-token" not in link
