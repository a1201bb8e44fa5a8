"""Approvals on the embedded runtime, as approvers and the clock see them: emailed links followed over
HTTP, a rejection ending the handoff, deadlines driving reminder, escalation and expiry, and the task
token kept out of every email, URL and log line."""

import json
import logging
import os
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from local.outbox import Email
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw

# The EMEA deal needs three approvals: procurement (subcontractor), compliance (EU personal data), finance.
KINDS = {"procurement", "compliance", "finance"}


def emea_deal(opportunity_id: str) -> dict:
    event = load_raw("closed-won", "emea-milestone-erp-rollout")
    event["detail"]["opportunity"]["id"] = opportunity_id
    event["detail"]["eventId"] = f"evt-{opportunity_id}"
    return event


def record_of(runtime: EmbeddedRuntime, opportunity_id: str) -> Any:
    [record] = [r for r in runtime.records() if r.opportunity_id == opportunity_id]
    return record


def links_for(runtime: EmbeddedRuntime, opportunity_id: str, since: int = 0) -> dict[str, tuple[Email, str]]:
    """The approval links emailed for one deal, by approval kind (from the subject)."""
    found = {}
    for mail, link in runtime.approval_links(since=since):
        if f"({opportunity_id})" in mail.subject:
            kind = next(k for k in KINDS if f"({k})" in mail.subject)
            found[kind] = (mail, link)
    return found


def get(link: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(link, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def task_tokens(runtime: EmbeddedRuntime, table: str = "TASK_TOKENS_TABLE", handoff_id: str | None = None) -> set[str]:
    """The task tokens held in a table (the test may Scan; no function may), of one handoff if given."""
    items = runtime.session.resource("dynamodb").Table(runtime.env(table)).scan()["Items"]
    return {item["taskToken"] for item in items if "taskToken" in item
            and handoff_id in (None, item.get("handoffId"))}


def test_a_rejection_ends_the_handoff_rejected_with_who_and_why(runtime: EmbeddedRuntime) -> None:
    runtime.publish([emea_deal("rej-opportunity-1")])
    runtime.wait_settled()
    links = links_for(runtime, "rej-opportunity-1")
    assert set(links) == KINDS
    assert record_of(runtime, "rej-opportunity-1").status == "AWAITING_APPROVAL"

    status, page = runtime.decide(links["finance"][1], "approve", "Margin is fine")
    assert status == 200 and "Approved, thank you" in page
    status, page = runtime.decide(links["compliance"][1], "reject", "No DPA signed for the French entity")
    assert status == 200 and "Rejection recorded" in page
    runtime.wait_settled()

    record = record_of(runtime, "rej-opportunity-1")
    assert record.status == "REJECTED"
    assert record.project is None and record.billing_schedule is None
    rejected = [a for a in record.approvals if a.decision == "REJECTED"]
    assert [(a.kind, a.approver) for a in rejected] == [("compliance", "privacy-emea@example-consulting.com")]
    assert rejected[0].comment == "No DPA signed for the French entity" and rejected[0].decided_at is not None
    closing = [t for t in record.timeline if t.step == "CloseHandoff"]
    assert len(closing) == 1 and "Approval.Rejected" in closing[0].detail and "No DPA signed" in closing[0].detail, \
        closing
    execution = next(e for e in runtime.executions() if e["status"] != "RUNNING"
                     and "rej-opportunity-1" in runtime.client("stepfunctions").describe_execution(
                         executionArn=e["executionArn"])["input"])
    assert execution["status"] == "FAILED"

    # The approval still open when the deal was rejected no longer decides anything.
    status, page = runtime.decide(links["procurement"][1], "approve")
    assert status == 410 and "The workflow is no longer waiting" in page, (status, page)
    record = record_of(runtime, "rej-opportunity-1")
    assert record.status == "REJECTED"
    assert next(a for a in record.approvals if a.kind == "procurement").decision != "APPROVED"


def test_deadlines_remind_escalate_then_block_with_approval_timeout(runtime: EmbeddedRuntime) -> None:
    runtime.publish([emea_deal("slow-opportunity-1")])
    runtime.wait_settled()
    first = links_for(runtime, "slow-opportunity-1")
    assert set(first) == KINDS
    created = min(a.requested_at for a in record_of(runtime, "slow-opportunity-1").approvals)

    # The ERP playbook: answer within 48 h, reminder 12 h before, escalation answered within 24 h.
    sent = len(runtime.emails())
    runtime.sweep_approvals(created + timedelta(hours=37))
    reminders = [m for m in runtime.emails()[sent:] if "slow-opportunity-1" in m.subject]
    assert len(reminders) == 3 and all(m.subject.lower().startswith("reminder") for m in reminders), \
        [m.subject for m in reminders]
    runtime.sweep_approvals(created + timedelta(hours=38))  # a re-run reminds nobody twice
    assert not [m for m in runtime.emails()[sent + 3:] if "slow-opportunity-1" in m.subject]

    sent = len(runtime.emails())
    runtime.sweep_approvals(created + timedelta(hours=49))
    runtime.wait_settled()
    escalated = links_for(runtime, "slow-opportunity-1", since=sent)
    assert set(escalated) == KINDS
    for kind, (mail, link) in escalated.items():
        old_mail, old_link = first[kind]
        assert mail.to != old_mail.to and link != old_link
        status, page = get(old_link)
        assert status == 410 and "expired" in page.lower()
    record = record_of(runtime, "slow-opportunity-1")
    assert record.status == "AWAITING_APPROVAL"
    for kind in KINDS:
        audit = {e.status for e in record.timeline if e.step == f"Approval {kind}"}
        assert {"REMINDED", "ESCALATED"} <= audit, (kind, audit)

    runtime.sweep_approvals(created + timedelta(hours=49 + 25))
    runtime.wait_settled()
    record = record_of(runtime, "slow-opportunity-1")
    assert record.status == "BLOCKED"
    assert [e.code for e in record.exceptions if e.severity == "BLOCKING"] == ["APPROVAL_TIMEOUT"]
    assert record.project is None
    for kind in KINDS:
        assert "EXPIRED" in {e.status for e in record.timeline if e.step == f"Approval {kind}"}
    # The exceptions queue's message became a work item of an approving function's group.
    items = runtime.work_items().for_handoff(record.handoff_id)
    assert [(i.code, i.state) for i in items] == [("APPROVAL_TIMEOUT", "open")], items
    assert items[0].owner_group in ("legal", "finance", "procurement")
    # The escalated links now answer 410 too.
    assert all(get(link)[0] == 410 for _mail, link in escalated.values())

    # Operations resubmit the deal once the approvers are back: the same handoff asks again, and the
    # timeout of the last round does not outlive it.
    sent = len(runtime.emails())
    status, answer = runtime.resubmit(record.handoff_id)
    assert status == 202 and answer["fixRound"] == 1, answer
    runtime.wait_settled()
    again = links_for(runtime, "slow-opportunity-1", since=sent)
    assert set(again) == KINDS
    for _mail, link in again.values():
        assert runtime.decide(link, "approve", "Back from leave, fine")[0] == 200
    runtime.wait_settled()
    record = record_of(runtime, "slow-opportunity-1")
    assert record.status == "ACTIVATED", (record.status, record.exceptions)
    assert record.rework == 1 and [e for e in record.exceptions if e.severity == "BLOCKING"] == []


def test_the_task_token_never_reaches_an_email_a_url_or_a_log(runtime: EmbeddedRuntime,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    # Our own logs at their most verbose; libraries at the level a deployed function runs them (botocore's
    # DEBUG wire dumps show every request body, including the token the store writes by design).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=os.environ["POWERTOOLS_SERVICE_NAME"])
    runtime.publish([emea_deal("tok-opportunity-1")])
    runtime.wait_settled()
    links = links_for(runtime, "tok-opportunity-1")
    # While the approvals wait, their tokens are in the task-token table and nowhere in the handoff table.
    tokens = task_tokens(runtime, handoff_id=record_of(runtime, "tok-opportunity-1").handoff_id)
    assert len(tokens) == 3 and all(len(t) > 20 for t in tokens)
    assert task_tokens(runtime, "HANDOFF_TABLE") == set()
    handoff_items = json.dumps(runtime.session.resource("dynamodb").Table(runtime.env("HANDOFF_TABLE")).scan()["Items"],
                               default=str)
    assert not [t for t in tokens if t in handoff_items]
    for _mail, link in links.values():
        runtime.decide(link, "approve", "ok")
    runtime.wait_settled()
    assert record_of(runtime, "tok-opportunity-1").status == "ACTIVATED"
    # Each token was removed once Step Functions took its decision.
    assert not tokens & task_tokens(runtime)
    # Every attribute of every record, extras included: what any log formatter could print.
    logs = "\n".join(json.dumps(vars(r), default=str) for r in caplog.records)
    assert "approval requested" in logs and "approval decided" in logs  # captured, so the check below can fail
    for token in tokens:
        for mail in runtime.emails():
            assert token not in mail.path.read_text()
            assert not any(token in link for link in mail.links())
        leaking = [(r.name, r.getMessage()[:300]) for r in caplog.records if token in json.dumps(vars(r), default=str)]
        assert not leaking
        assert all(token not in e["executionArn"] for e in runtime.executions())
