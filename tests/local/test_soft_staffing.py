"""Soft staffing end to end on the embedded runtime: "Opportunity Stage Changed" events published
to the bus reach the TrackPipeline function through the stack's own rule; the closed-won handoff
then firms the same requests up; a lost deal releases them."""

from typing import Any

from handoff.adapters.ledger.inspector import LedgerInspector
from local.runtime import EmbeddedRuntime
from tests.support.events import closed_won, stage_changed

NEEDS = ["Engagement Manager", "Solution Architect", "Functional Consultant"]  # the EMEA example's staffing


def ledger(runtime: EmbeddedRuntime) -> LedgerInspector:
    return LedgerInspector(runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE")))


def staffing(runtime: EmbeddedRuntime, opportunity_id: str) -> dict[str, dict[str, Any]]:
    return {r["requestId"]: r for r in ledger(runtime).staffing_requests(opportunity_id)}


def failed(runtime: EmbeddedRuntime, opportunity_id: str) -> list[dict]:
    """Events the TrackPipeline function gave up on (after Lambda's two retries): its dead letters."""
    import json

    bodies = [json.loads(m["Body"]) for m in runtime.queue_messages("TrackPipelineFailed")]
    return [b for b in bodies if b["detail"]["opportunity"].get("id") == opportunity_id]


def test_soft_requests_at_the_threshold_become_firm_at_closed_won_without_duplicates(runtime: EmbeddedRuntime) -> None:
    won = closed_won("emea-milestone-erp-rollout", "pipe-won-1")
    runtime.publish([stage_changed(won, stage="Proposal", probability=40)])  # below the ERP playbook's 60 %
    runtime.wait_settled()
    assert staffing(runtime, "pipe-won-1") == {}

    runtime.publish([stage_changed(won, stage="Negotiation", probability=60)])
    runtime.wait_settled()
    soft = staffing(runtime, "pipe-won-1")
    assert sorted(r["role"] for r in soft.values()) == sorted(NEEDS)
    assert {r["status"] for r in soft.values()} == {"SOFT"}
    assert {r["projectCode"] for r in soft.values()} == {None}

    # The same stage again (another emission) and the very same event delivered twice at once change
    # nothing (the second of two concurrent deliveries finds the first in progress: Lambda retries it).
    again = stage_changed(won, stage="Negotiation", probability=60, event_id="pipe-won-1-negotiation-bis")
    runtime.publish([again, again])
    runtime.wait_settled()
    assert staffing(runtime, "pipe-won-1") == soft

    runtime.publish([won])
    runtime.wait_settled()
    runtime.decide_all("approve")
    [record] = [r for r in runtime.records() if r.opportunity_id == "pipe-won-1"]
    assert record.status == "ACTIVATED", (record.status, record.exceptions)

    firm = staffing(runtime, "pipe-won-1")
    assert set(firm) == set(soft)  # the soft requests were upgraded, not duplicated
    assert len(firm) == len(won["detail"]["staffing"])
    assert {(r["status"], r["projectCode"]) for r in firm.values()} == {("FIRM", record.project.code)}
    assert sorted((r.request_id, r.status) for r in record.staffing_requests) == sorted(
        (rid, "FIRM") for rid in soft)
    assert failed(runtime, "pipe-won-1") == []


def test_a_lost_deal_releases_its_soft_requests(runtime: EmbeddedRuntime) -> None:
    won = closed_won("emea-milestone-erp-rollout", "pipe-lost-1")
    runtime.publish([stage_changed(won, stage="Negotiation", probability=75)])
    runtime.wait_settled()
    assert {r["status"] for r in staffing(runtime, "pipe-lost-1").values()} == {"SOFT"}

    runtime.publish([stage_changed(won, stage="Closed Lost", probability=0)])
    runtime.wait_settled()

    released = staffing(runtime, "pipe-lost-1")
    assert len(released) == 3 and {r["status"] for r in released.values()} == {"RELEASED"}
    assert not [r for r in runtime.records() if r.opportunity_id == "pipe-lost-1"]  # no handoff for a lost deal
    assert failed(runtime, "pipe-lost-1") == []


def test_a_stage_change_delivered_after_the_loss_does_not_reopen_the_requests(runtime: EmbeddedRuntime) -> None:
    won = closed_won("emea-milestone-erp-rollout", "pipe-late-1")
    runtime.publish([stage_changed(won, stage="Proposal", probability=65, occurred_at="2026-10-01T09:00:00Z")])
    runtime.wait_settled()
    runtime.publish([stage_changed(won, stage="Closed Lost", probability=0, occurred_at="2026-10-03T09:00:00Z")])
    runtime.wait_settled()
    # EventBridge does not promise order: the negotiation update of the day before arrives last.
    runtime.publish([stage_changed(won, stage="Negotiation", probability=80, occurred_at="2026-10-02T09:00:00Z")])
    runtime.wait_settled()
    requests = staffing(runtime, "pipe-late-1")
    assert len(requests) == 3 and {r["status"] for r in requests.values()} == {"RELEASED"}
    assert failed(runtime, "pipe-late-1") == []


def test_an_invalid_stage_changed_event_is_quarantined_naming_the_field(runtime: EmbeddedRuntime) -> None:
    event = stage_changed(closed_won("emea-milestone-erp-rollout", "pipe-bad-1"), stage="Negotiation",
                          probability=60, event_id="pipe-bad-evt-1")
    event["detail"]["opportunity"]["probability"] = "sixty"
    before = len(runtime.lambdas.invocations)  # earlier tests' concurrent deliveries may have retried
    runtime.publish([event])
    runtime.wait_settled()

    [kept] = [q for q in runtime.quarantined() if q["event"]["detail"]["eventId"] == "pipe-bad-evt-1"]
    assert [p["field"] for p in kept["problems"]] == ["detail.opportunity.probability"]
    assert kept["event"]["detail-type"] == "Opportunity Stage Changed"
    assert staffing(runtime, "pipe-bad-1") == {}
    # Rejected once and answered: no retries of an event that cannot pass, nothing dead-lettered.
    assert failed(runtime, "pipe-bad-1") == []
    function = runtime.physical("TrackPipeline", "AWS::Lambda::Function")
    assert not [e for f, e in runtime.lambdas.invocations[before:] if f == function and e]
