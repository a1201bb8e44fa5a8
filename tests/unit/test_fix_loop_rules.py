"""The fix loop's pure rules: what a resubmission publishes, when it is refused, how rounds are named."""

import copy
from dataclasses import replace

import pytest

from handoff.contracts import parse_event
from handoff.domain.errors import EventAlreadyReceived, HandoffNotBlocked, OtherOpportunity
from handoff.domain.fix_loop import (
    Correction,
    HandoffState,
    fix_round_step,
    plan_resubmission,
    resubmission_event_id,
)
from tests.conftest import load_raw

STORED = load_raw("needs-fix", "unsigned-contract")
STORED["detail"]["crmExtra"] = {"kept": True}  # unknown CRM fields travel with the deal
BLOCKED = HandoffState(handoff_id="ho-00000000000000aa", opportunity_id=STORED["detail"]["opportunity"]["id"],
                       source=STORED["source"], status="BLOCKED", rework=1,
                       event_ids=(STORED["detail"]["eventId"], "sf-evt-second"))


def corrected(event_id: str = "sf-evt-third", **changes: str) -> Correction:
    raw = copy.deepcopy(STORED)
    raw["detail"]["eventId"] = event_id
    raw["detail"]["contract"].update(status="signed", signedAt="2026-11-22T09:00:00Z")
    if "opportunity" in changes:
        raw["detail"]["opportunity"]["id"] = changes["opportunity"]
    if "source" in changes:
        raw["source"] = changes["source"]
    return Correction(parse_event(raw), raw)


def test_without_a_body_the_stored_deal_is_published_again_under_one_event_id_per_round() -> None:
    plan = plan_resubmission(BLOCKED, STORED)
    assert (plan.fix_round, plan.corrected, plan.source, plan.detail_type) == (
        2, False, "crm.salesforce", "Opportunity Closed Won")
    assert plan.event_id == plan.detail["eventId"] == resubmission_event_id(BLOCKED.handoff_id, 2)
    assert plan.event_id == "resubmit-ho-00000000000000aa-2"
    assert {k: v for k, v in plan.detail.items() if k != "eventId"} == {
        k: v for k, v in STORED["detail"].items() if k != "eventId"}
    assert STORED["detail"]["eventId"] == "sf-evt-20261121-0050"  # the stored deal is not changed
    # The same round twice is the same event: the store takes it once.
    assert plan_resubmission(BLOCKED, STORED).event_id == plan.event_id


def test_a_corrected_event_is_published_as_received() -> None:
    correction = corrected()
    plan = plan_resubmission(BLOCKED, STORED, correction)
    assert (plan.event_id, plan.fix_round, plan.corrected) == ("sf-evt-third", 2, True)
    assert plan.detail == correction.raw["detail"] and plan.detail["crmExtra"] == {"kept": True}
    assert plan.detail is not correction.raw["detail"]


@pytest.mark.parametrize("status", ["RECEIVED", "VALIDATING", "AWAITING_APPROVAL", "PROVISIONING", "ACTIVATED",
                                    "REJECTED", "FAILED"])
def test_only_a_blocked_handoff_takes_a_resubmission(status: str) -> None:
    state = replace(BLOCKED, status=status)
    for correction in (None, corrected()):
        with pytest.raises(HandoffNotBlocked) as refused:
            plan_resubmission(state, STORED, correction)
        assert refused.value.status == status and f"is {status}" in str(refused.value)


@pytest.mark.parametrize(("changes", "field"), [
    ({"opportunity": "006-another-deal"}, "detail.opportunity.id"),
    ({"source": "crm.hubspot"}, "source"),
])
def test_an_event_of_another_opportunity_is_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(OtherOpportunity) as refused:
        plan_resubmission(BLOCKED, STORED, corrected(**changes))
    assert refused.value.field == field and refused.value.status == "BLOCKED"


@pytest.mark.parametrize("event_id", ["sf-evt-20261121-0050", "sf-evt-second"])
def test_an_event_id_the_handoff_already_took_is_refused(event_id: str) -> None:
    with pytest.raises(EventAlreadyReceived) as refused:
        plan_resubmission(BLOCKED, STORED, corrected(event_id))
    assert refused.value.field == "detail.eventId" and event_id in str(refused.value)


def test_each_fix_round_has_its_own_timeline_name() -> None:
    assert fix_round_step("ValidateReadiness", 0) == "ValidateReadiness"
    assert [fix_round_step("AcceptEvent", n) for n in (1, 2)] == ["AcceptEvent (fix round 1)",
                                                                  "AcceptEvent (fix round 2)"]
