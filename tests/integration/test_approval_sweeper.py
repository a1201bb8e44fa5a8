"""The approval sweeper on moto (DynamoDB with gsi1, Secrets Manager, SES) with a stub Step Functions
client; the clock is the scheduled event's `time`."""

import email
import email.policy
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.configuration import load_approver_directory
from handoff.adapters.mailer import Mailer
from handoff.adapters.task_callback import TaskCallback
from handoff.contracts import parse_event
from handoff.domain.approvals import required_approvals
from handoff.domain.policy import ApprovalRules
from handoff.handlers import approval_api, approval_sweeper
from tests.support.approvals import approvals_on_moto, deal_handoff_id, request_approval
from tests.support.aws import StubSfn
from tests.support.fixtures import fixture_path

REGION = "eu-west-1"
TOKEN = "AAAAKgAAAAIAAAAAAAAAAf-sweeper-secret-task-token"
KEY = "sweeper-signing-key-" * 4
BASE = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
SENDER = "handoffs@example-consulting.com"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HANDOFF = deal_handoff_id()
LINK = re.compile(r"https?://\S+")


class Context:
    function_name = "ApprovalSweeper"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:ApprovalSweeper"
    aws_request_id = "3f0e1a2b-0000-4000-8000-000000000002"


@dataclass
class Env:
    store: ApprovalStore
    sfn: StubSfn
    table: Any
    monkeypatch: pytest.MonkeyPatch

    def emails(self) -> list[email.message.EmailMessage]:
        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        return [email.message_from_string(m.raw_data, policy=email.policy.default)
                for m in backend.sent_messages if isinstance(m, RawMessage)]

    def sweep(self, at: datetime) -> dict:
        event = {"version": "0", "id": "sweep", "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
                 "resources": [], "detail": {}}
        return approval_sweeper.handler(event, Context())


def text(msg: email.message.EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def links(msg: email.message.EmailMessage) -> list[str]:
    return LINK.findall(text(msg))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    # A plain SecretString (not a key document) works too.
    with approvals_on_moto(monkeypatch, region=REGION, secret=KEY, base_url=BASE, sender=SENDER,
                           registered_at=T0) as (table, tokens):
        sfn = StubSfn()
        monkeypatch.setattr(approval_sweeper, "_callback", lambda: TaskCallback(sfn, tokens))
        monkeypatch.setattr(approval_api, "_callback", lambda: TaskCallback(sfn, tokens))
        yield Env(ApprovalStore(table, tokens), sfn, table, monkeypatch)


def open_approvals(env: Env) -> list:
    """Compliance and procurement for the EMEA rollout, requested at T0 (48 h, remind 12 h before, 24 h escalation)."""
    event = parse_event(fixture_path("closed-won", "emea-milestone-erp-rollout").read_text())
    found = required_approvals(event, ApprovalRules(), load_approver_directory(), non_standard_clauses=[],
                               estimated_margin=None)
    # Decided on the link (the sweeper's business is deadlines; codes: test_decision_codes.py).
    requested = [request_approval(env.monkeypatch, HANDOFF, r.model_copy(update={"verification": "link"}),
                                  f"{TOKEN}-{r.kind}", T0) for r in found]
    return [env.store.get(output["approvalId"]) for output in requested]


def post(link: str, decision: str, at: datetime, monkeypatch: pytest.MonkeyPatch, comment: str = "") -> int:
    monkeypatch.setattr(approval_api, "_now", lambda: at)
    url = urlsplit(link)
    form = dict(parse_qsl(url.query)) | {"decision": decision, "comment": comment}
    path = url.path.removeprefix("/v1")
    event = {"resource": "/approvals/{approvalId}", "path": path, "httpMethod": "POST",
             "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "queryStringParameters": None,
             "pathParameters": {"approvalId": path.rsplit("/", 1)[-1]}, "body": urlencode(form),
             "isBase64Encoded": False,
             "requestContext": {"requestId": "r", "stage": "v1", "identity": {"sourceIp": "192.0.2.1"}}}
    return approval_api.handler(event, Context())["statusCode"]


def test_nothing_is_due_right_after_the_request(env: Env) -> None:
    open_approvals(env)
    assert len(env.emails()) == 2
    report = env.sweep(T0 + timedelta(hours=1))
    assert report["reminded"] == report["escalated"] == report["expired"] == []
    assert len(env.emails()) == 2


def test_reminds_once_with_the_original_link(env: Env) -> None:
    compliance, procurement = open_approvals(env)
    original = {m["To"]: links(m) for m in env.emails()}
    assert env.sweep(T0 + timedelta(hours=35, minutes=59))["reminded"] == []
    report = env.sweep(T0 + timedelta(hours=36))
    assert sorted(report["reminded"]) == sorted([compliance.approval_id, procurement.approval_id])
    reminders = env.emails()[2:]
    assert len(reminders) == 2
    for msg in reminders:
        assert msg["Subject"].startswith("Reminder: approval needed")
        assert links(msg) == original[msg["To"]]  # the same single link
    assert env.sweep(T0 + timedelta(hours=36, minutes=15))["reminded"] == []  # idempotent
    assert env.sweep(T0 + timedelta(hours=36))["reminded"] == []  # even the same run replayed
    assert len(env.emails()) == 4
    assert env.store.get(compliance.approval_id).reminded_at == T0 + timedelta(hours=36)


def test_escalates_once_the_old_link_is_gone_and_the_new_link_works(env: Env,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    compliance, _ = open_approvals(env)
    old_link = links(env.emails()[0])[0]
    at = T0 + timedelta(hours=48)
    report = env.sweep(at)
    assert len(report["escalated"]) == 2 and report["reminded"] == []  # a missed reminder does not block escalation
    assert env.sweep(at + timedelta(minutes=15))["escalated"] == []  # once
    old = env.store.get(compliance.approval_id)
    assert old.status == "ESCALATED" and old.escalated_to
    new = env.store.get(old.escalated_to)
    assert (new.status, new.level, new.approver) == ("PENDING", 1, "chief-compliance@example-consulting.com")
    assert new.task_token_ref == old.task_token_ref == old.approval_id  # the same waiting task's token
    mails = {m["To"]: m for m in env.emails()[2:]}
    escalation = mails["Henrik Lund <chief-compliance@example-consulting.com>"]
    assert escalation["Subject"].startswith("Escalated approval (compliance)")
    [new_link] = links(escalation)
    assert new.approval_id in new_link and new_link != old_link
    notice = mails["Elena Rossi <privacy-emea@example-consulting.com>"]
    assert "no longer works" in text(notice) and links(notice) == []
    assert post(old_link, "approve", at + timedelta(minutes=20), monkeypatch) == 410
    assert post(new_link, "approve", at + timedelta(minutes=20), monkeypatch) == 200
    [(name, kwargs)] = env.sfn.calls
    assert name == "success" and kwargs["taskToken"] == f"{TOKEN}-compliance"


def test_expires_the_escalated_request_and_fails_the_task_once(env: Env) -> None:
    open_approvals(env)
    env.sweep(T0 + timedelta(hours=48))
    assert env.sweep(T0 + timedelta(hours=71, minutes=59))["expired"] == []
    report = env.sweep(T0 + timedelta(hours=72))
    assert len(report["expired"]) == 2
    failures = {kw["taskToken"]: kw for name, kw in env.sfn.calls if name == "failure"}
    assert set(failures) == {f"{TOKEN}-compliance", f"{TOKEN}-procurement"}
    cause = failures[f"{TOKEN}-compliance"]["cause"]
    assert failures[f"{TOKEN}-compliance"]["error"] == "Approval.TimedOut"
    assert "privacy-emea@example-consulting.com" in cause and "chief-compliance@example-consulting.com" in cause
    assert env.sweep(T0 + timedelta(hours=73))["expired"] == []
    assert len(env.sfn.calls) == 2
    statuses = [(a.kind, a.level, a.status) for a in env.store.list_for_handoff(HANDOFF)]
    assert sorted(statuses) == [("compliance", 0, "ESCALATED"), ("compliance", 1, "EXPIRED"),
                                ("procurement", 0, "ESCALATED"), ("procurement", 1, "EXPIRED")]


def test_expiry_closes_the_record_even_when_the_task_is_already_gone(env: Env) -> None:
    open_approvals(env)
    env.sweep(T0 + timedelta(hours=48))
    env.sfn.error = ClientError({"Error": {"Code": "TaskTimedOut", "Message": "t"}}, "SendTaskFailure")
    assert len(env.sweep(T0 + timedelta(hours=72))["expired"]) == 2
    expired = [a for a in env.store.list_for_handoff(HANDOFF) if a.status == "EXPIRED"]
    assert len(expired) == 2 and all("TaskTimedOut" in a.audit[-1].detail for a in expired)


def test_step_functions_outage_leaves_the_approval_for_the_next_run(env: Env) -> None:
    open_approvals(env)
    env.sweep(T0 + timedelta(hours=48))
    env.sfn.error = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendTaskFailure")
    with pytest.raises(approval_sweeper.SweepIncomplete):
        env.sweep(T0 + timedelta(hours=72))
    assert [a.status for a in env.store.list_for_handoff(HANDOFF) if a.level == 1] == ["PENDING", "PENDING"]
    env.sfn.error = None
    assert len(env.sweep(T0 + timedelta(hours=72, minutes=15))["expired"]) == 2


def test_a_reminder_that_could_not_be_sent_is_sent_by_the_next_run(env: Env,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    compliance, _ = open_approvals(env)
    sent = Mailer.send

    def broken(self: Mailer, msg: Any) -> str:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded"}},
                          "SendRawEmail")

    monkeypatch.setattr(Mailer, "send", broken)
    with pytest.raises(approval_sweeper.SweepIncomplete):
        env.sweep(T0 + timedelta(hours=36))
    assert env.store.get(compliance.approval_id).reminded_at is None
    monkeypatch.setattr(Mailer, "send", sent)
    assert len(env.sweep(T0 + timedelta(hours=36, minutes=15))["reminded"]) == 2
    assert len(env.emails()) == 4


def test_a_stopped_handoff_gets_no_more_reminders(env: Env) -> None:
    compliance, procurement = open_approvals(env)
    # A sibling approval was rejected: the workflow recorded the handoff as REJECTED.
    env.table.put_item(Item={"pk": f"HANDOFF#{HANDOFF}", "sk": "RECORD", "status": "REJECTED"})
    report = env.sweep(T0 + timedelta(hours=36))
    assert sorted(report["withdrawn"]) == sorted([compliance.approval_id, procurement.approval_id])
    assert report["reminded"] == [] and len(env.emails()) == 2
    assert env.store.pending_due(T0 + timedelta(hours=99)) == []


def test_task_token_never_appears_in_emails_or_logs(env: Env, capsys: pytest.CaptureFixture,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    open_approvals(env)
    for hours in (36, 48, 60, 72):
        env.sweep(T0 + timedelta(hours=hours))
    assert len(env.emails()) == 2 + 2 + 4 + 2  # requests, reminders, escalations + notices, escalated reminders
    captured = capsys.readouterr()
    raw = [m.as_string() for m in env.emails()]
    for chunk in [*raw, captured.out, captured.err, caplog.text, json.dumps(env.sweep(T0 + timedelta(hours=99)))]:
        assert TOKEN not in chunk
