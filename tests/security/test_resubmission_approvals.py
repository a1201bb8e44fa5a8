"""Attack: bypass an approval by resubmitting a BLOCKED handoff through the operators' API with the
reason for it (here the subcontractor that makes procurement approval necessary) removed. On the
embedded runtime, end to end: the approval is still asked for, and the timeline names the caller."""

import copy
from datetime import timedelta

from local.runtime import EmbeddedRuntime
from tests.local.test_approvals_end_to_end import emea_deal, links_for, record_of
from tests.local.test_fix_loop import handoff_of
from tests.support.runtime_fixture import runtime  # noqa: F401  (one runtime for this module)

ATTACKER = "arn:aws:iam::123456789012:user/ops-mallory"


def _without_subcontractors(event: dict, event_id: str) -> dict:
    corrected = copy.deepcopy(event)
    corrected["detail"]["eventId"] = event_id
    corrected["detail"]["subcontractors"] = []
    return corrected


def _settled_until(runtime: EmbeddedRuntime, check, attempts: int = 5):
    """wait_settled until `check()` is truthy: on a loaded machine a quiet spell may come before the
    workflow's next step (the check is what the test waits for, the loop only bounds it)."""
    for _ in range(attempts):
        runtime.wait_settled()
        if found := check():
            return found
    return check()


def _resubmitted_by(record, event_id: str) -> str:
    [entry] = [t for t in record.timeline if t.step == f"Resubmitted (fix round 1): {event_id}"]
    return entry.detail or ""


def test_resubmission_after_approval_timeout_cannot_drop_the_timed_out_approval(runtime: EmbeddedRuntime) -> None:
    event = emea_deal("bypass-timeout-1")
    runtime.publish([event])
    first = _settled_until(runtime, lambda: len(found := links_for(runtime, "bypass-timeout-1")) == 3 and found)
    assert set(first) == {"procurement", "compliance", "finance"}
    for kind in ("compliance", "finance"):
        assert runtime.decide(first[kind][1], "approve", "fine")[0] == 200
    runtime.wait_settled()
    created = min(a.requested_at for a in record_of(runtime, "bypass-timeout-1").approvals)
    runtime.sweep_approvals(created + timedelta(hours=49))  # procurement escalated...
    runtime.wait_settled()
    runtime.sweep_approvals(created + timedelta(hours=49 + 25))  # ...and expired: the handoff is blocked
    record = _settled_until(runtime, lambda: (r := record_of(runtime, "bypass-timeout-1")).status == "BLOCKED" and r)
    assert record and "APPROVAL_TIMEOUT" in {e.code for e in record.exceptions}

    sent = len(runtime.emails())
    corrected = _without_subcontractors(event, "bypass-timeout-1-no-subs")
    status, body = runtime.resubmit(record.handoff_id, corrected, caller=ATTACKER)
    assert status == 202, body
    again = _settled_until(runtime, lambda: len(found := links_for(runtime, "bypass-timeout-1", since=sent)) >= 3
                           and found) or links_for(runtime, "bypass-timeout-1", since=sent)
    assert "procurement" in again, set(again)  # never approved: asked again though the deal no longer shows why
    assert "Required since the first round" in again["procurement"][0].text()
    record = record_of(runtime, "bypass-timeout-1")
    assert record.status == "AWAITING_APPROVAL"
    assert ATTACKER in _resubmitted_by(record, "bypass-timeout-1-no-subs")

    for _mail, link in again.values():
        assert runtime.decide(link, "approve", "checked")[0] == 200
    record = _settled_until(runtime, lambda: (r := record_of(runtime, "bypass-timeout-1")).status == "ACTIVATED"
                            and r) or record_of(runtime, "bypass-timeout-1")
    assert record.status == "ACTIVATED"
    # The record lists every round's approvals (the expired escalation keeps the simulated clock's time):
    # the procurement approval asked again in the new round was given, with this round's comment.
    procurement = [(a.decision, a.comment) for a in record.approvals if a.kind == "procurement"]
    assert ("APPROVED", "checked") in procurement, procurement
    assert ("APPROVED", "fine") not in procurement  # the first round never approved procurement


def test_resubmission_of_a_readiness_blocked_deal_cannot_drop_an_approval_it_needed(
        runtime: EmbeddedRuntime) -> None:
    from tests.support.fixtures import load_raw

    event = load_raw("needs-fix", "missing-tax-id")
    event["detail"]["opportunity"]["id"] = "bypass-blocked-1"
    event["detail"]["eventId"] = "bypass-blocked-1-evt"
    assert event["detail"]["subcontractors"]
    runtime.publish([event])
    handoff_id = handoff_of(event)
    assert _settled_until(runtime, lambda: runtime.handoff(handoff_id)[1].get("status") == "BLOCKED")

    corrected = _without_subcontractors(event, "bypass-blocked-1-fixed")
    corrected["detail"]["account"]["taxId"] = "DE811907980"
    sent = len(runtime.emails())
    status, body = runtime.resubmit(handoff_id, corrected, caller=ATTACKER)
    assert status == 202, body
    _settled_until(runtime, lambda: len(runtime.approval_links(since=sent)) >= 3)
    asked = [mail.subject for mail, _link in runtime.approval_links(since=sent)]
    assert any("(procurement)" in subject for subject in asked), asked
    record = record_of(runtime, "bypass-blocked-1")
    assert record.status == "AWAITING_APPROVAL" and ATTACKER in _resubmitted_by(record, "bypass-blocked-1-fixed")
