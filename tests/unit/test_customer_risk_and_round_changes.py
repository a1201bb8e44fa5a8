"""AI assistance that never decides, offline and deterministic: customer risk from the deal's own
facts, exception priority by revenue and customer risk, and what changed between fix rounds."""

import copy
from datetime import UTC, datetime

from handoff.adapters.playbook_files import all_playbooks
from handoff.contracts import ExceptionEntry, parse_event
from handoff.domain.customer_risk import customer_risk
from handoff.domain.priority import prioritise
from handoff.domain.round_changes import changed_fields, summarise_round
from tests.conftest import load_raw

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def deal(**changes: object) -> dict:
    raw = load_raw("closed-won", "emea-milestone-erp-rollout")
    detail = raw["detail"]
    for path, value in changes.items():
        node = detail
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return raw


def test_customer_risk_adds_up_what_applies() -> None:
    known = parse_event(deal(account__erpCustomerId="C-1", contract__paymentTermsDays=30, contract__clauses=[],
                             subcontractors=[], scope__countries=["DE"]))
    assert customer_risk(known).score == 0 and customer_risk(known).reasons == ()
    risky = parse_event(deal(account__erpCustomerId=None, contract__paymentTermsDays=120, subcontractors=[],
                             scope__countries=["DE", "PL"], contract__clauses=[
                                 {"id": "C1", "title": "Liability", "text": "Liability is unlimited for data loss."},
                                 {"id": "C2", "title": "Delays", "text": "Liquidated damages of 1% per week apply."}]))
    found = customer_risk(risky, {"PL": 10})
    assert found.score == 30 + 25 + 10 + 10 + 20  # new, terms > 90, country PL, cross-border, two onerous clauses
    assert found.reasons[0] == "new customer" and "country risk PL" in found.reasons
    assert customer_risk(risky, {"PL": 30}).score == 100  # 115, capped


def test_the_riskier_customer_ranks_first_at_the_same_revenue() -> None:
    playbook = all_playbooks()["erp-implementation"]
    entry = ExceptionEntry(code="MISSING_FIELD", severity="BLOCKING", message="m", step="ValidateReadiness")
    safe = parse_event(deal(account__erpCustomerId="C-1", contract__paymentTermsDays=30, contract__clauses=[],
                            subcontractors=[], scope__countries=["DE"]))
    risky = parse_event(deal(account__erpCustomerId=None, contract__paymentTermsDays=120))
    value = safe.detail.contract.value
    low, high = (prioritise([entry], revenue_at_risk=value, now=NOW, playbook=playbook,
                            customer_risk=customer_risk(d))[0].priority for d in (safe, risky))
    assert low is not None and high is not None and 500 <= low < high <= 1000
    unchanged = prioritise([entry], revenue_at_risk=value, now=NOW, playbook=playbook)[0].priority
    assert unchanged is not None and unchanged > low  # without a risk, revenue keeps all 500 points, as before


def test_round_summary_names_the_fix_and_why_it_matters() -> None:
    before = load_raw("needs-fix", "missing-tax-id")["detail"]
    after = copy.deepcopy(before)
    after["eventId"], after["account"]["taxId"] = "new-id", "DE811907980"
    assert changed_fields(before, after) == [("account.taxId", before["account"].get("taxId"), "DE811907980")]
    text = summarise_round(before, after, 1, [("INVALID_TAX_ID", "account.taxId"), ("CONTRACT_NOT_SIGNED",
                                                                                     "contract.status")])
    assert text.startswith("Fix round 1 changed 1 field(s): account.taxId (")
    assert "It addresses INVALID_TAX_ID at account.taxId." in text
    assert "Not changed: CONTRACT_NOT_SIGNED at contract.status" in text
    assert "customer master" in text  # why it matters
    assert summarise_round(before, after, 1, []) == summarise_round(before, after, 1, [])  # deterministic


def test_money_changes_read_as_one_value_and_an_unchanged_deal_says_so() -> None:
    before = load_raw("closed-won", "emea-milestone-erp-rollout")["detail"]
    after = copy.deepcopy(before)
    after["contract"]["value"]["value"] = "1.00"
    [(path, _old, new)] = changed_fields(before, after)
    assert (path, new) == ("contract.value", f"1.00 {before['contract']['value']['currency']}")
    assert "billing schedule" in summarise_round(before, after, 2, [])
    assert "unchanged" in summarise_round(before, copy.deepcopy(before), 2, [])
