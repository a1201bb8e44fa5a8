"""The approval API end to end on moto (DynamoDB, Secrets Manager, SES), with a stub Step Functions client:
approvals requested by the RequestApproval handler, signed links, GET decides nothing, one decision only,
and the task token never leaks."""

import base64
import email
import email.policy
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.configuration import load_approver_directory
from handoff.adapters.task_callback import TaskCallback
from handoff.adapters.task_tokens import TaskTokens
from handoff.contracts import parse_event
from handoff.domain.approvals import Approval, approval_link, required_approvals
from handoff.domain.policy import ApprovalRules
from handoff.handlers import approval_api
from tests.support.approvals import approvals_on_moto, deal_handoff_id, request_approval
from tests.support.aws import StubSfn
from tests.support.fixtures import fixture_path

REGION = "eu-west-1"
TOKEN = "AAAAKgAAAAIAAAAAAAAAAf-very-secret-task-token"
KEY = "k3y-" * 16
BASE = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HANDOFF = deal_handoff_id()
SENDER = "handoffs@example-consulting.com"


class SesOutbox:
    """What SES (moto) accepted, oldest first."""

    @property
    def sent(self) -> list[email.message.EmailMessage]:
        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        return [email.message_from_string(m.raw_data, policy=email.policy.default)
                for m in backend.sent_messages if isinstance(m, RawMessage)]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    store: ApprovalStore
    sfn: StubSfn
    clock: Clock
    mailer: SesOutbox
    monkeypatch: pytest.MonkeyPatch
    links: dict[str, str] = field(default_factory=dict)
    tokens: TaskTokens | None = None


class Context:
    function_name = "ApprovalApi"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:ApprovalApi"
    aws_request_id = "3f0e1a2b-0000-4000-8000-000000000001"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    with approvals_on_moto(monkeypatch, region=REGION, secret=json.dumps({"key": KEY}), base_url=BASE, sender=SENDER,
                           registered_at=T0) as (table, tokens):
        sfn, clock = StubSfn(), Clock(T0 + timedelta(hours=1))
        monkeypatch.setattr(approval_api, "_callback", lambda: TaskCallback(sfn, tokens))
        monkeypatch.setattr(approval_api, "_now", clock)
        yield Env(ApprovalStore(table, tokens), sfn, clock, SesOutbox(), monkeypatch, tokens=tokens)


def requirements() -> list:
    event = parse_event(fixture_path("closed-won", "emea-milestone-erp-rollout").read_text())
    return event, required_approvals(event, ApprovalRules(), load_approver_directory(), non_standard_clauses=[],
                                     estimated_margin=None)


def open_approval(env: Env, index: int = 0, token: str = TOKEN, verification: str = "link") -> tuple[Approval, str]:
    """The RequestApproval Lambda at T0; returns the approval and the link from its email. These tests
    are about the link itself, so the approval decides on it (`link`) unless told otherwise."""
    _event, found = requirements()
    requirement = found[index].model_copy(update={"verification": verification})
    output = request_approval(env.monkeypatch, HANDOFF, requirement, token, T0)
    approval = env.store.get(output["approvalId"])
    assert approval is not None
    body = env.mailer.sent[-1].get_body(("plain",)).get_content()
    [link] = re.findall(r"https?://\S+", body)
    return approval, link


def api_event(method: str, link: str, form: dict[str, str] | None = None, *, b64: bool = False,
              ip: str = "203.0.113.7", agent: str = "Mozilla/5.0 (iPhone) approver") -> dict:
    url = urlsplit(link)
    path = url.path.removeprefix("/v1")
    query = dict(parse_qsl(url.query)) if method == "GET" else {}
    body = urlencode(form) if form is not None else None
    if body is not None and b64:
        body = base64.b64encode(body.encode()).decode()
    headers = {"Host": url.netloc, "User-Agent": agent}
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return {
        "resource": "/approvals/{approvalId}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"approvalId": path.rsplit("/", 1)[-1]}, "stageVariables": None,
        "body": body, "isBase64Encoded": b64,
        "requestContext": {"resourcePath": "/approvals/{approvalId}", "httpMethod": method, "stage": "v1",
                           "path": f"/v1{path}", "requestId": "req-1",
                           "identity": {"sourceIp": ip, "userAgent": agent}},
    }


def call(event: dict) -> tuple[int, str, dict]:
    response = approval_api.handler(event, Context())
    headers = dict(response.get("headers") or {})
    headers |= {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], response["body"], headers


def get(link: str, **kwargs: Any) -> tuple[int, str, dict]:
    return call(api_event("GET", link, **kwargs))


def post(link: str, decision: str, comment: str = "", **kwargs: Any) -> tuple[int, str, dict]:
    """Submit the form as a browser would: the hidden exp and sig, to the form's own action."""
    query = dict(parse_qsl(urlsplit(link).query))
    form = {"exp": query.get("exp", ""), "sig": query.get("sig", ""), "decision": decision, "comment": comment}
    return call(api_event("POST", link.split("?")[0], form, **kwargs))


def with_param(link: str, name: str, value: str) -> str:
    base, query = link.split("?")
    params = dict(parse_qsl(query)) | {name: value}
    return f"{base}?{urlencode(params)}"


# --- GET never decides ---------------------------------------------------------------------------------
def test_get_shows_the_request_and_decides_nothing(env: Env) -> None:
    approval, link = open_approval(env)
    for agent in ("Microsoft Defender SafeLinks", "Proofpoint URL Defense", "Mozilla/5.0 (iPhone) approver"):
        status, body, headers = get(link, agent=agent)
        assert status == 200
    assert '<html lang="en">' in body and 'name="viewport"' in body
    assert '<label for="comment">' in body and 'value="approve"' in body and 'value="reject"' in body
    exp, sig = dict(parse_qsl(urlsplit(link).query)).values()
    assert f'<input type="hidden" name="exp" value="{exp}">' in body
    assert f'<input type="hidden" name="sig" value="{sig}">' in body
    assert f'<form method="post" action="{approval.approval_id}">' in body
    assert "GDPR Art. 28" in body and "Nordwerk Industrie GmbH (DE)" in body
    assert "http" not in body  # no external assets
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    stored = env.store.get(approval.approval_id)
    assert stored.status == "PENDING" and stored.decided_by is None
    assert env.sfn.calls == []
    views = [a for a in stored.audit if a.action == "viewed"]
    assert [v.user_agent for v in views] == ["Microsoft Defender SafeLinks", "Proofpoint URL Defense",
                                             "Mozilla/5.0 (iPhone) approver"]
    assert {v.ip for v in views} == {"203.0.113.7"}


# --- deciding ------------------------------------------------------------------------------------------
def test_approve_records_the_decision_and_resumes_the_workflow(env: Env) -> None:
    approval, link = open_approval(env)
    status, body, _ = post(link, "approve", "DPA signed 2026-10-02.", ip="198.51.100.4", agent="Firefox/140")
    assert status == 200 and "Approved, thank you" in body
    [(name, kwargs)] = env.sfn.calls
    assert name == "success" and kwargs["taskToken"] == TOKEN
    output = json.loads(kwargs["output"])
    assert output == {"decision": "APPROVED", "approver": "privacy-emea@example-consulting.com",
                      "comment": "DPA signed 2026-10-02.", "decidedAt": "2026-11-20T16:00:00.000Z",
                      "kind": "compliance", "approvalId": approval.approval_id}
    stored = env.store.get(approval.approval_id)
    assert (stored.status, stored.decided_by, stored.comment) == (
        "APPROVED", "privacy-emea@example-consulting.com", "DPA signed 2026-10-02.")
    decided = [a for a in stored.audit if a.action == "approved"]
    assert [(a.ip, a.user_agent) for a in decided] == [("198.51.100.4", "Firefox/140")]
    # Decided approvals leave the sweeper's index.
    raw = env.store._table.get_item(Key={"pk": f"HANDOFF#{HANDOFF}", "sk": f"APPROVAL#{approval.approval_id}"})
    assert "gsi1pk" not in raw["Item"]


def test_double_click_and_replay_keep_the_first_decision_and_send_nothing(env: Env) -> None:
    approval, link = open_approval(env)
    assert post(link, "approve")[0] == 200
    env.clock.now += timedelta(minutes=5)
    for decision, comment in (("approve", ""), ("reject", "changed my mind")):
        status, body, _ = post(link, decision, comment)
        assert status == 200
        assert "already approved by privacy-emea@example-consulting.com on Fri 20 Nov 2026, 16:00 UTC" in body
    status, body, _ = get(link)
    assert status == 200 and "already approved" in body and "<form" not in body
    assert len(env.sfn.calls) == 1
    assert env.store.get(approval.approval_id).status == "APPROVED"


def test_reject_fails_the_task_with_the_comment_as_cause(env: Env) -> None:
    approval, link = open_approval(env)
    status, body, _ = post(link, "reject", "No DPA with the customer yet.")
    assert status == 200 and "Rejection recorded" in body and "lena.hoffmann@example-consulting.com" in body
    assert env.sfn.calls == [("failure", {"taskToken": TOKEN, "error": "Approval.Rejected",
                                          "cause": "No DPA with the customer yet."})]
    assert env.store.get(approval.approval_id).status == "REJECTED"


@pytest.mark.parametrize(("decision", "comment", "message"), [
    ("reject", "  ", "Please say why you reject"),
    ("maybe", "", "Choose Approve or Reject"),
])
def test_incomplete_form_is_shown_again_and_decides_nothing(env: Env, decision: str, comment: str,
                                                            message: str) -> None:
    approval, link = open_approval(env)
    status, body, _ = post(link, decision, comment)
    assert status == 400 and message in body and 'role="alert"' in body and "<form" in body
    assert env.store.get(approval.approval_id).status == "PENDING" and env.sfn.calls == []


def test_form_body_may_arrive_base64_encoded(env: Env) -> None:
    approval, link = open_approval(env)
    assert post(link, "approve", "ok", b64=True)[0] == 200
    assert env.store.get(approval.approval_id).status == "APPROVED"


# --- links that must not work --------------------------------------------------------------------------
def test_tampered_links_are_refused(env: Env) -> None:
    approval, link = open_approval(env)
    _, other_link = open_approval(env, index=1, token="other-token")
    exp, sig = dict(parse_qsl(urlsplit(link).query)).values()
    flipped = sig[:5] + ("B" if sig[5] == "A" else "A") + sig[6:]
    later = str(int(exp) + 7 * 86400)
    other_sig = dict(parse_qsl(urlsplit(other_link).query))["sig"]
    tampered = [with_param(link, "sig", flipped), with_param(link, "exp", later), with_param(link, "sig", other_sig),
                link.split("?")[0], with_param(link, "sig", "")]
    for bad in tampered:
        status, body, _ = get(bad)
        assert status == 403 and "This link is not valid" in body
        status, body, _ = post(bad, "approve")
        assert status == 403
    stored = env.store.get(approval.approval_id)
    assert stored.status == "PENDING" and not [a for a in stored.audit if a.action == "viewed"]
    assert env.sfn.calls == []


def test_expired_link_is_gone_and_names_who_to_contact(env: Env) -> None:
    approval, link = open_approval(env)
    env.clock.now = approval.expires_at + timedelta(minutes=1)
    status, body, _ = get(link)
    assert status == 410 and "This link has expired" in body
    assert "chief-compliance@example-consulting.com" in body  # the escalation approver
    status, body, _ = post(link, "approve")
    assert status == 410
    assert env.store.get(approval.approval_id).status == "PENDING" and env.sfn.calls == []


def test_escalation_makes_the_old_link_gone_and_the_new_link_work(env: Env) -> None:
    approval, link = open_approval(env)
    env.clock.now = approval.expires_at + timedelta(minutes=10)
    new = env.store.escalate(approval.approval_id, env.clock.now)
    status, body, _ = post(link, "approve")
    assert status == 410 and "went to Henrik Lund" in body
    assert get(link)[0] == 410
    new_link = approval_link(BASE, new, KEY.encode())
    status, body, _ = get(new_link)
    assert status == 200 and "Escalated to you: Elena Rossi did not answer" in body
    status, body, _ = post(new_link, "approve", "fine")
    assert status == 200 and "Approved, thank you" in body
    [(name, kwargs)] = env.sfn.calls
    assert name == "success" and kwargs["taskToken"] == TOKEN  # the same waiting task
    assert json.loads(kwargs["output"])["approver"] == "chief-compliance@example-consulting.com"
    assert [a.status for a in env.store.list_for_handoff(HANDOFF) if a.kind == "compliance"] == [
        "ESCALATED", "APPROVED"]


# --- Step Functions says no ----------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_task_no_longer_waiting_is_explained_and_the_record_expired(env: Env, code: str) -> None:
    approval, link = open_approval(env)
    env.sfn.error = ClientError({"Error": {"Code": code, "Message": "gone"}}, "SendTaskSuccess")
    status, body, _ = post(link, "approve", "ok")
    assert status == 410 and "The workflow is no longer waiting" in body and "not applied" in body
    stored = env.store.get(approval.approval_id)
    assert stored.status == "EXPIRED" and stored.decided_by is None
    assert code in stored.audit[-1].detail
    env.sfn.error = None
    status, body, _ = post(link, "approve")  # and it stays closed
    assert status == 410 and env.sfn.calls == []


def test_transient_step_functions_error_undoes_the_decision_so_a_retry_works(env: Env) -> None:
    approval, link = open_approval(env)
    env.sfn.error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendTaskSuccess")
    status, body, _ = post(link, "approve", "ok")
    assert status == 503 and "Please try again" in body
    stored = env.store.get(approval.approval_id)
    assert stored.status == "PENDING" and stored.decided_by is None
    assert [a.approval_id for a in env.store.pending_due(approval.expires_at)] == [approval.approval_id]
    env.sfn.error = None
    assert post(link, "approve", "ok")[0] == 200
    assert len(env.sfn.calls) == 1


# --- the token stays secret ----------------------------------------------------------------------------
def test_task_token_never_appears_in_pages_urls_emails_or_logs(env: Env, caplog: pytest.LogCaptureFixture,
                                                                capsys: pytest.CaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="handoff")
    caplog.set_level(logging.DEBUG, logger="closed-won-handoff")
    _, link = open_approval(env)
    bodies = [get(link)[1], post(link, "reject", "no")[1], post(link, "approve")[1], get(link)[1]]
    _, other_link = open_approval(env, index=1)
    env.sfn.error = ClientError({"Error": {"Code": "TaskTimedOut", "Message": "t"}}, "SendTaskSuccess")
    bodies.append(post(other_link, "approve")[1])
    emails = [m.as_string() for m in env.mailer.sent]
    captured = capsys.readouterr()
    for text in [*bodies, link, other_link, *emails, caplog.text, captured.out, captured.err]:
        assert TOKEN not in text
    assert env.sfn.calls[0][1]["taskToken"] == TOKEN  # it did reach Step Functions


# --- the store's guards --------------------------------------------------------------------------------
def test_a_retried_request_finds_its_approval_and_a_new_round_supersedes_it(env: Env) -> None:
    event, found = requirements()
    first = env.store.create_pending(HANDOFF, found[0], event, TOKEN, T0)
    again = env.store.create_pending(HANDOFF, found[0], event, TOKEN, T0 + timedelta(seconds=3))
    assert first.created and not again.created and again.approval.approval_id == first.approval.approval_id
    # Step Functions gives a retried attempt a new task token: same approval, pointed at the new token.
    retried = env.store.create_pending(HANDOFF, found[0], event, "retry-token", T0 + timedelta(seconds=9))
    assert not retried.created and retried.approval.approval_id == first.approval.approval_id
    # The new token replaced the old one in the task-token table; the approval item holds none.
    assert retried.approval.task_token is None and retried.approval.task_token_ref == first.approval.approval_id
    assert env.tokens.get(first.approval.approval_id) == "retry-token"
    assert retried.approval.audit[-1].action == "retried"
    rerun = env.store.create_pending(HANDOFF, found[0], event, "a-new-token", T0 + timedelta(hours=1), fix_round=1)
    assert rerun.created and rerun.approval.approval_id != first.approval.approval_id
    assert rerun.approval.fix_round == 1
    assert env.store.get(first.approval.approval_id).status == "EXPIRED"
    # the RequestApproval handler mails once per approval, however often it is retried
    open_approval(env, token="a-new-token")
    open_approval(env, token="a-new-token")
    assert len(env.mailer.sent) == 1


def test_every_transition_out_of_pending_happens_once(env: Env) -> None:
    approval, _ = open_approval(env)
    at = T0 + timedelta(hours=36)
    assert env.store.mark_reminded(approval.approval_id, at)
    assert not env.store.mark_reminded(approval.approval_id, at)  # two sweeps racing: one reminder
    first = env.store.decide(approval.approval_id, "APPROVED", approval.approver, None, None, None, at)
    second = env.store.decide(approval.approval_id, "REJECTED", approval.approver, "no", None, None, at)
    assert first.won and not second.won
    assert (second.approval.status, second.approval.decided_by, second.approval.decided_at) == (
        "APPROVED", approval.approver, at)
    assert env.store.escalate(approval.approval_id, at) is None  # decided: nothing to escalate
    assert not env.store.expire(approval.approval_id, at)
    assert env.store.pending_due(T0 + timedelta(days=9)) == []


def test_a_decision_after_the_deadline_loses_even_without_the_link_check(env: Env) -> None:
    approval, _ = open_approval(env)
    late = env.store.decide(approval.approval_id, "APPROVED", approval.approver, None, None, None,
                            approval.expires_at)
    assert not late.won and late.approval.status == "PENDING"
