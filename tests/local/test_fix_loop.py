"""The fix loop end to end on the embedded runtime: a needs-fix deal is BLOCKED with one email to its
owner; a corrected event (new eventId, same opportunity) or a resubmission through the operators'
API continues the SAME handoff to ACTIVATED, with the fix rounds counted as rework."""

import copy
import json
from collections.abc import Callable

import pytest

from handoff.adapters.handoff_store import handoff_id_for
from handoff.contracts import HandoffRecord
from local.outbox import Email
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw

Fix = Callable[[dict], None]


def sign(detail: dict) -> None:
    detail["contract"].update(status="signed", signedAt="2026-11-22T09:00:00Z")


def milestones_summing(detail: dict) -> None:
    detail["contract"]["milestones"][-1]["amount"]["value"] = "55000.00"  # 30,000 + 55,000 = 85,000


def valid_vat_number(detail: dict) -> None:
    detail["account"]["taxId"] = "DE811907980"


# needs-fix example -> (the blocking code and field, the fix the deal owner makes)
NEEDS_FIX: dict[str, tuple[tuple[str, str], Fix]] = {
    "unsigned-contract": (("CONTRACT_NOT_SIGNED", "contract.status"), sign),
    "milestones-do-not-sum": (("MILESTONES_MISMATCH", "contract.milestones"), milestones_summing),
    "missing-tax-id": (("INVALID_TAX_ID", "account.taxId"), valid_vat_number),
}


def own_deal(kind: str, name: str, tag: str) -> dict:
    """An example under its own opportunity (the module's runtime is shared by every test here)."""
    event = load_raw(kind, name)
    detail = event["detail"]
    detail["opportunity"]["id"] = f"{tag}-{name}"
    detail["opportunity"]["name"] += f" [{tag}]"
    detail["eventId"] = f"{tag}-{name}-1"
    return event


def correction(event: dict, n: int, fix: Fix) -> dict:
    """What the CRM emits after the deal owner's fix: a new eventId, the same opportunity."""
    corrected = copy.deepcopy(event)
    corrected["detail"]["eventId"] = event["detail"]["eventId"].removesuffix("-1") + f"-{n}"
    fix(corrected["detail"])
    return corrected


def handoff_of(event: dict) -> str:
    return handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])


def assert_one_handoff(runtime: EmbeddedRuntime, event: dict) -> None:
    """Whatever happened, one handoff for the opportunity."""
    opportunity = event["detail"]["opportunity"]["id"]
    assert [r.handoff_id for r in runtime.records() if r.opportunity_id == opportunity] == [handoff_of(event)]


def record_of(runtime: EmbeddedRuntime, event: dict) -> HandoffRecord:
    return runtime.store().record(handoff_of(event))


def action_needed(runtime: EmbeddedRuntime, event: dict) -> list[Email]:
    opportunity = event["detail"]["opportunity"]
    return [m for m in runtime.emails()
            if m.subject == f"Action needed before kickoff: {opportunity['name']}"]


def blocking(record: HandoffRecord) -> list[tuple[str, str | None]]:
    return [(e.code, e.field) for e in record.exceptions if e.severity == "BLOCKING"]


def steps(record: HandoffRecord) -> list[tuple[str, str]]:
    return [(t.step, t.status) for t in record.timeline if not t.step.startswith("Approval")]


def executions_of(runtime: EmbeddedRuntime, event: dict) -> list[dict]:
    sfn = runtime.client("stepfunctions")
    opportunity = event["detail"]["opportunity"]["id"]
    return [e for e in runtime.executions()
            if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
            .get("detail", {}).get("opportunity", {}).get("id") == opportunity]


def publish_and_settle(runtime: EmbeddedRuntime, event: dict) -> None:
    runtime.publish([event])
    runtime.wait_settled()


def assert_blocked_with_one_fix_request(runtime: EmbeddedRuntime, event: dict, expected: tuple[str, str],
                                        *, emails: int = 1) -> HandoffRecord:
    record = record_of(runtime, event)
    assert record.status == "BLOCKED", (record.status, record.exceptions)
    assert expected in blocking(record), blocking(record)
    assert record.project is None and record.billing_schedule is None
    mails = action_needed(runtime, event)
    assert len(mails) == emails, [m.subject for m in mails]
    mail = mails[-1]
    assert event["detail"]["opportunity"]["owner"]["email"] in mail.to
    text = mail.text()
    for entry in (e for e in record.exceptions if e.severity == "BLOCKING"):
        # Where (the field path) and how (the message says what to change) for every blocking item.
        assert f"- {entry.field}: {entry.message}" in text, text
    assert f"Fix round: {record.rework + 1}." in text
    return record


@pytest.mark.parametrize("name", sorted(NEEDS_FIX))
def test_a_blocked_deal_corrected_in_the_crm_continues_the_same_handoff_to_activated(
        runtime: EmbeddedRuntime, name: str) -> None:
    expected, fix = NEEDS_FIX[name]
    event = own_deal("needs-fix", name, "crm-fix")
    publish_and_settle(runtime, event)
    blocked = assert_blocked_with_one_fix_request(runtime, event, expected)
    assert blocked.handoff_id == handoff_of(event) and blocked.rework == 0
    assert steps(blocked) == [("AcceptEvent", "SUCCEEDED"), ("ValidateReadiness", "BLOCKED")]

    fixed = correction(event, 2, fix)
    publish_and_settle(runtime, fixed)
    runtime.decide_all("approve")

    record = record_of(runtime, event)
    assert record.handoff_id == blocked.handoff_id
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    assert record.rework == 1 and record.event_id == fixed["detail"]["eventId"]
    assert blocking(record) == [] and record.project is not None and record.billing_schedule is not None
    # The blocked round and the resumed round, each step once in the final round.
    timeline = steps(record)
    assert timeline[:4] == [("AcceptEvent", "SUCCEEDED"), ("ValidateReadiness", "BLOCKED"),
                            ("AcceptEvent (fix round 1)", "SUCCEEDED"), ("ValidateReadiness (fix round 1)", "SUCCEEDED")]
    names = [step for step, _ in timeline]
    assert len(names) == len(set(names)), names
    assert names[-1] == "MarkActivated" and {"SyncCustomerMaster", "CreateProjectShell"} <= set(names)
    assert len(action_needed(runtime, event)) == 1  # nothing more to fix, no more email
    assert_one_handoff(runtime, event)
    # One execution per event delivered; both on the one handoff.
    assert sorted(e["status"] for e in executions_of(runtime, event)) == ["SUCCEEDED", "SUCCEEDED"]


def test_corrections_that_are_still_wrong_block_again_with_a_new_email_each(runtime: EmbeddedRuntime) -> None:
    expected, fix = NEEDS_FIX["milestones-do-not-sum"]
    event = own_deal("needs-fix", "milestones-do-not-sum", "rework")
    publish_and_settle(runtime, event)
    assert_blocked_with_one_fix_request(runtime, event, expected)

    still_short = correction(event, 2, lambda d: d["contract"]["milestones"][-1]["amount"].update(value="54000.00"))
    publish_and_settle(runtime, still_short)
    record = assert_blocked_with_one_fix_request(runtime, event, expected, emails=2)
    assert record.rework == 1
    assert "1,000.00 USD short" in action_needed(runtime, event)[-1].text()

    now_over = correction(event, 3, lambda d: d["contract"]["milestones"][-1]["amount"].update(value="56000.00"))
    publish_and_settle(runtime, now_over)
    record = assert_blocked_with_one_fix_request(runtime, event, expected, emails=3)
    assert record.rework == 2

    publish_and_settle(runtime, correction(event, 4, fix))
    runtime.decide_all("approve")
    record = record_of(runtime, event)
    assert (record.status, record.rework) == ("ACTIVATED", 3)
    assert steps(record)[:8] == [
        ("AcceptEvent", "SUCCEEDED"), ("ValidateReadiness", "BLOCKED"),
        ("AcceptEvent (fix round 1)", "SUCCEEDED"), ("ValidateReadiness (fix round 1)", "BLOCKED"),
        ("AcceptEvent (fix round 2)", "SUCCEEDED"), ("ValidateReadiness (fix round 2)", "BLOCKED"),
        ("AcceptEvent (fix round 3)", "SUCCEEDED"), ("ValidateReadiness (fix round 3)", "SUCCEEDED"),
    ]
    # Three blocked rounds reached the work queue; the live handoff left nothing open.
    items = runtime.work_items().for_handoff(record.handoff_id)
    assert items and max(i.fix_round for i in items) == 2, items
    assert all(i.state == "resolved" for i in items), [(i.code, i.state) for i in items]
    assert_one_handoff(runtime, event)


def test_a_corrected_event_for_an_activated_handoff_starts_nothing(runtime: EmbeddedRuntime) -> None:
    event = own_deal("closed-won", "us-fixed-fee-advisory", "late-fix")
    publish_and_settle(runtime, event)
    runtime.decide_all("approve")
    activated = record_of(runtime, event)
    assert activated.status == "ACTIVATED"

    late = correction(event, 2, lambda d: d["scope"].update(summary=d["scope"]["summary"] + " Revised."))
    publish_and_settle(runtime, late)

    record = record_of(runtime, event)
    assert (record.status, record.rework, record.event_id) == ("ACTIVATED", 0, event["detail"]["eventId"])
    assert record.project == activated.project and record.activated_at == activated.activated_at
    ignored = [t for t in record.timeline if t.step == f"IgnoredEvent {late['detail']['eventId']}"]
    assert [(t.status, t.detail) for t in ignored] == [
        ("IGNORED", "handoff is ACTIVATED; only a BLOCKED handoff takes a corrected event")]
    # The late event's execution took the duplicate branch and ended there.
    sfn = runtime.client("stepfunctions")
    runs = {json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["detail"]["eventId"]: e
            for e in executions_of(runtime, event)}
    history = sfn.get_execution_history(executionArn=runs[late["detail"]["eventId"]]["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[-1] == "Duplicate event ignored" and "Validate readiness" not in entered
    assert action_needed(runtime, event) == []
    assert_one_handoff(runtime, event)


# --- the operators' API ---------------------------------------------------------------------------------------
def test_resubmitting_a_corrected_event_through_the_api_continues_the_same_handoff(runtime: EmbeddedRuntime) -> None:
    expected, fix = NEEDS_FIX["unsigned-contract"]
    event = own_deal("needs-fix", "unsigned-contract", "api-fix")
    handoff_id = handoff_of(event)
    publish_and_settle(runtime, event)
    assert_blocked_with_one_fix_request(runtime, event, expected)

    status, shown = runtime.handoff(handoff_id)
    assert status == 200 and shown == record_of(runtime, event).to_json_dict()

    # A body that fails the contract: 422 naming the field, kept in the quarantine, the handoff untouched.
    broken = correction(event, 2, fix)
    del broken["detail"]["contract"]["status"]
    status, body = runtime.resubmit(handoff_id, broken)
    assert status == 422, body
    assert [p["field"] for p in body["problems"]] == ["detail.contract.status"]
    assert broken["detail"]["eventId"] in {q["event"]["detail"]["eventId"] for q in runtime.quarantined()}
    # Another opportunity's event, or the blocked event again: refused naming the field.
    other = correction(event, 3, fix)
    other["detail"]["opportunity"]["id"] = "someone-else"
    status, body = runtime.resubmit(handoff_id, other)
    assert status == 422 and body["problems"][0]["field"] == "detail.opportunity.id", body
    status, body = runtime.resubmit(handoff_id, event)
    assert status == 409 and body["problems"][0]["field"] == "detail.eventId", body
    assert (record_of(runtime, event).status, record_of(runtime, event).rework) == ("BLOCKED", 0)

    fixed = correction(event, 4, fix)
    status, body = runtime.resubmit(handoff_id, fixed)
    assert status == 202, body
    assert body == {**body, "handoffId": handoff_id, "eventId": fixed["detail"]["eventId"], "corrected": True,
                    "status": "BLOCKED", "rework": 0, "fixRound": 1}
    runtime.wait_settled()
    runtime.decide_all("approve")
    record = record_of(runtime, event)
    assert (record.handoff_id, record.status, record.rework) == (handoff_id, "ACTIVATED", 1)
    assert record.event_id == fixed["detail"]["eventId"]

    status, body = runtime.resubmit(handoff_id, correction(event, 5, fix))
    assert status == 409 and body["status"] == "ACTIVATED" and "ACTIVATED" in body["message"], body
    status, body = runtime.resubmit(handoff_id)
    assert status == 409 and body["status"] == "ACTIVATED", body
    assert record_of(runtime, event).rework == 1
    assert_one_handoff(runtime, event)


def test_unknown_handoffs_are_not_found(runtime: EmbeddedRuntime) -> None:
    for handoff_id in ("ho-0000000000000000", "not-a-handoff-id", "../approvals/x"):
        assert runtime.resubmit(handoff_id)[0] == 404
        assert runtime.handoff(handoff_id)[0] == 404


def test_a_playbook_fix_then_a_resubmission_without_body_activates_the_stored_deal(
        runtime: EmbeddedRuntime) -> None:
    event = own_deal("closed-won", "us-fixed-fee-advisory", "playbook-fix")
    event["detail"]["opportunity"]["serviceLine"] = "cloud-migration"
    handoff_id = handoff_of(event)
    publish_and_settle(runtime, event)

    record = record_of(runtime, event)
    assert record.status == "BLOCKED" and blocking(record) == [("UNKNOWN_PLAYBOOK", "opportunity.serviceLine")]
    [mail] = action_needed(runtime, event)
    text = mail.text()
    # A human message naming the choices, not the server's file path.
    assert "No playbook for service line 'cloud-migration' (known: advisory, data-analytics, " in text
    assert runtime.env("PLAYBOOKS_PARAMETER_PATH") not in text and ".yaml" not in text

    # Operations add the playbook (a parameter under the playbooks path: no code release); nothing changes
    # on the deal, so they resubmit it without a body (twice: a double click). One resubmission eventId
    # per round makes the second a duplicate or a 409.
    path = runtime.env("PLAYBOOKS_PARAMETER_PATH")
    advisory = runtime.client("ssm").get_parameter(Name=f"{path}/advisory")["Parameter"]["Value"]
    runtime.set_parameter(f"{path}/cloud-migration",
                          advisory.replace("service_line: advisory", "service_line: cloud-migration"))
    first = runtime.resubmit(handoff_id)
    second = runtime.resubmit(handoff_id)
    assert first[0] == 202 and first[1]["corrected"] is False and first[1]["fixRound"] == 1, first
    assert second[0] in (202, 409), second
    runtime.wait_settled()
    runtime.decide_all("approve")
    record = record_of(runtime, event)
    assert (record.status, record.rework) == ("ACTIVATED", 1), (record.status, record.exceptions)
    assert record.event_id == first[1]["eventId"] == f"resubmit-{handoff_id}-1"
    assert len(action_needed(runtime, event)) == 1
    # The double click was one round: one resumed AcceptEvent, and no second round.
    steps = [t.step for t in record.timeline]
    assert steps.count("AcceptEvent (fix round 1)") == 1 and "AcceptEvent (fix round 2)" not in steps
