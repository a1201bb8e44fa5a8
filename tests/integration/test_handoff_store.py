"""The handoff store's registration on moto: one handoff per opportunity, a corrected event resumes a
BLOCKED handoff once (rework counted, its own timeline entry), anything else is a duplicate."""

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.handoff_store import HandoffStore, handoff_id_for, is_handoff_id
from handoff.contracts import HandoffStatus, parse_event
from handoff.domain.errors import HandoffNotFound
from tests.conftest import load_raw
from tests.support.aws import create_handoff_table

REGION = "eu-west-1"
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[HandoffStore]:
    with mock_aws():
        create_handoff_table("handoffs", REGION)
        yield HandoffStore(boto3.resource("dynamodb", region_name=REGION).Table("handoffs"))


def deal(event_id: str = "sf-evt-20261121-0050") -> dict:
    raw = load_raw("needs-fix", "unsigned-contract")
    raw["detail"]["eventId"] = event_id
    raw["detail"]["crmExtra"] = "kept"
    return raw


def register(store: HandoffStore, raw: dict, minutes: int = 0):
    return store.register(parse_event(raw), raw, T0 + timedelta(minutes=minutes))


def timeline(store: HandoffStore, handoff_id: str) -> list[tuple[str, str]]:
    return [(t.step, t.status) for t in store.record(handoff_id).timeline]


def test_the_first_event_starts_one_handoff_and_keeps_the_deal_as_received(store: HandoffStore) -> None:
    raw = deal()
    registration = register(store, raw)
    assert (registration.action, registration.status) == ("start", "RECEIVED")
    assert registration.handoff_id == handoff_id_for("crm.salesforce", "006Qy00000ApT5x1")
    assert is_handoff_id(registration.handoff_id) and not is_handoff_id("ho-../../x")
    state = store.state(registration.handoff_id)
    assert (state.status, state.rework, state.event_ids) == ("RECEIVED", 0, ("sf-evt-20261121-0050",))
    assert store.raw_deal(registration.handoff_id) == raw
    assert store.deal(registration.handoff_id).detail.opportunity.id == "006Qy00000ApT5x1"


def test_a_corrected_event_resumes_a_blocked_handoff_once_with_rework_counted(store: HandoffStore) -> None:
    handoff_id = register(store, deal()).handoff_id
    store.set_status(handoff_id, HandoffStatus.BLOCKED)
    fixed = deal("sf-evt-fixed")
    fixed["detail"]["contract"].update(status="signed", signedAt="2026-11-22T09:00:00Z")

    resumed = register(store, fixed, minutes=5)
    assert (resumed.handoff_id, resumed.action, resumed.status) == (handoff_id, "resume", "VALIDATING")
    state = store.state(handoff_id)
    assert (state.status, state.rework, state.event_ids) == ("VALIDATING", 1,
                                                              ("sf-evt-20261121-0050", "sf-evt-fixed"))
    assert store.deal(handoff_id).detail.contract.status == "signed"
    assert store.record(handoff_id).event_id == "sf-evt-fixed"
    assert timeline(store, handoff_id) == [("AcceptEvent", "SUCCEEDED"), ("AcceptEvent (fix round 1)", "SUCCEEDED")]

    # Delivered again (EventBridge is at least once): a duplicate, nothing counted twice.
    again = register(store, copy.deepcopy(fixed), minutes=6)
    assert (again.action, again.reason) == ("duplicate", "same event delivered again")
    assert store.state(handoff_id).rework == 1


@pytest.mark.parametrize("status", [HandoffStatus.VALIDATING, HandoffStatus.AWAITING_APPROVAL,
                                    HandoffStatus.ACTIVATED, HandoffStatus.REJECTED])
def test_a_corrected_event_for_a_handoff_that_is_not_blocked_is_ignored_and_noted(
        store: HandoffStore, status: HandoffStatus) -> None:
    raw = deal()
    handoff_id = register(store, raw).handoff_id
    store.set_status(handoff_id, status)
    late = register(store, deal("sf-evt-late"), minutes=5)
    assert (late.action, late.status) == ("duplicate", status.value)
    state = store.state(handoff_id)
    assert (state.status, state.rework, state.event_ids) == (status.value, 0, ("sf-evt-20261121-0050",))
    assert store.raw_deal(handoff_id) == raw
    [ignored] = [t for t in store.record(handoff_id).timeline if t.status == "IGNORED"]
    assert ignored.step == "IgnoredEvent sf-evt-late"
    assert ignored.detail == f"handoff is {status.value}; only a BLOCKED handoff takes a corrected event"


def test_an_unknown_handoff_is_not_found(store: HandoffStore) -> None:
    for read in (store.state, store.record, store.raw_deal, store.results_so_far):
        with pytest.raises(HandoffNotFound):
            read("ho-0000000000000000")


def test_results_so_far_are_the_records_step_results_without_its_history(store: HandoffStore) -> None:
    handoff_id = register(store, deal()).handoff_id
    customer = {"erpCustomerId": "C-1", "legalName": "Cobalt Dental LLC", "country": "US", "match": "created"}
    store.save(handoff_id, customer=customer)
    store.record_step(handoff_id, "SyncCustomerMaster", "SUCCEEDED", T0, detail="C-1")

    whole, so_far = store.record(handoff_id), store.results_so_far(handoff_id)
    assert so_far.customer == whole.customer and so_far.customer.erp_customer_id == "C-1"
    assert (so_far.handoff_id, so_far.status, so_far.received_at) == (whole.handoff_id, whole.status, whole.received_at)
    assert [t.step for t in whole.timeline][-1] == "SyncCustomerMaster" and so_far.timeline == []
    assert so_far.project is None


def test_pipeline_stage_changes_are_kept_in_the_crm_order(store: HandoffStore) -> None:
    t = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    now = t + timedelta(days=30)
    def advance(source: str, opportunity: str, event_id: str, at: datetime) -> bool:
        return store.advance_pipeline(source, opportunity, at, {"detail": {"eventId": event_id}}, now)

    assert advance("crm.salesforce", "opp-9", "negotiation", t)
    assert advance("crm.salesforce", "opp-9", "lost", t + timedelta(hours=2))
    # Delivered late: older than what was seen, so it must not act.
    assert not advance("crm.salesforce", "opp-9", "proposal", t + timedelta(hours=1))
    assert store.latest_pipeline_event("crm.salesforce", "opp-9") == {"detail": {"eventId": "lost"}}
    # The newest event again (a retry of a run that failed after this write) still acts.
    assert advance("crm.salesforce", "opp-9", "lost", t + timedelta(hours=2))
    # Another opportunity, and the same id from another CRM, keep their own order.
    assert advance("crm.salesforce", "opp-10", "proposal", t)
    assert advance("crm.hubspot", "opp-9", "proposal", t)
    assert store.latest_pipeline_event("crm.hubspot", "opp-404") is None
    # The cursor is no handoff: operators' listings do not show it.
    assert store.handoff_ids() == []


def test_a_handoff_is_registered_with_its_deal_or_not_at_all(store: HandoffStore) -> None:
    """One transaction: when the deal cannot be written (here: over DynamoDB's 400 KB item limit),
    no record is left behind for a redelivery to mistake for a duplicate."""
    from botocore.exceptions import ClientError

    raw = deal()
    raw["detail"]["crmExtra"] = "x" * 420_000
    with pytest.raises(ClientError):
        register(store, raw)
    assert store.handoff_ids() == []
    # The same event, within limits, then registers normally.
    raw["detail"]["crmExtra"] = "kept"
    assert register(store, raw).action == "start"
    assert store.raw_deal(store.handoff_ids()[0])["detail"]["crmExtra"] == "kept"


def test_a_corrected_event_is_taken_with_its_deal_or_not_at_all(store: HandoffStore) -> None:
    from botocore.exceptions import ClientError

    first = register(store, deal())
    store.set_status(first.handoff_id, HandoffStatus.BLOCKED)
    fixed = deal("sf-evt-fixed")
    fixed["detail"]["crmExtra"] = "x" * 420_000
    with pytest.raises(ClientError):
        register(store, fixed, minutes=5)
    state = store.state(first.handoff_id)
    assert (state.status, state.rework, state.event_ids) == ("BLOCKED", 0, ("sf-evt-20261121-0050",))
    fixed["detail"]["crmExtra"] = "fixed"
    assert register(store, fixed, minutes=6).action == "resume"
    assert store.raw_deal(first.handoff_id)["detail"]["crmExtra"] == "fixed"


def test_a_new_round_starts_without_the_last_rounds_exceptions(store: HandoffStore) -> None:
    from handoff.contracts import ExceptionEntry

    first = register(store, deal())
    timeout = ExceptionEntry(code="APPROVAL_TIMEOUT", severity="BLOCKING", step="Approval_Timeout", message="late")
    unsigned = ExceptionEntry(code="CONTRACT_NOT_SIGNED", severity="BLOCKING", step="ValidateReadiness",
                              field="contract.status", message="unsigned")
    store.set_exceptions(first.handoff_id, "CloseHandoff", [timeout])
    store.set_exceptions(first.handoff_id, "ValidateReadiness", [unsigned])
    store.set_status(first.handoff_id, HandoffStatus.BLOCKED)
    assert {e.code for e in store.record(first.handoff_id).exceptions} == {"APPROVAL_TIMEOUT", "CONTRACT_NOT_SIGNED"}
    assert register(store, deal("sf-evt-fixed"), minutes=5).action == "resume"
    assert store.record(first.handoff_id).exceptions == []


def test_of_two_corrections_racing_one_resumes_and_the_other_is_noted_as_ignored(
        store: HandoffStore, monkeypatch: pytest.MonkeyPatch) -> None:
    first = register(store, deal())
    store.set_status(first.handoff_id, HandoffStatus.BLOCKED)
    transact = store._transact
    raced: list[str] = []

    def other_correction_lands_first(actions: list[dict]) -> None:
        resuming = any("Update" in action for action in actions)
        if resuming and not raced:  # both read BLOCKED; the other one's transaction commits first
            raced.append("racing")
            raced[0] = register(store, deal("sf-evt-fix-a"), minutes=5).action
        transact(actions)

    monkeypatch.setattr(store, "_transact", other_correction_lands_first)
    lost = register(store, deal("sf-evt-fix-b"), minutes=5)
    assert raced == ["resume"]
    assert (lost.action, lost.reason) == ("duplicate", "resubmitted concurrently")
    state = store.state(first.handoff_id)
    assert (state.rework, state.event_ids) == (1, ("sf-evt-20261121-0050", "sf-evt-fix-a"))
    assert ("IgnoredEvent sf-evt-fix-b", "IGNORED") in timeline(store, first.handoff_id)
