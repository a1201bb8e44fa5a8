"""Attacks on the approval links and their form (moto DynamoDB and Secrets Manager, a stub Step
Functions): forged, altered, expired, replayed, malformed, enumerated. None may decide, none may 500."""

import base64
import logging
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.integration.test_approval_api import (  # noqa: F401  (env is a fixture)
    BASE,
    HANDOFF,
    TOKEN,
    Env,
    api_event,
    call,
    env,
    get,
    open_approval,
    post,
    with_param,
)


def _form_post(link: str, body: str, *, b64: bool = False) -> tuple[int, str, dict]:
    event = api_event("POST", link.split("?")[0], {})
    event["body"], event["isBase64Encoded"] = body, b64
    return call(event)


def _link_form(link: str, **extra: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query)) | extra


def _nothing_decided(env: Env, approval_id: str) -> None:
    stored = env.store.get(approval_id)
    assert stored.status == "PENDING" and stored.decided_by is None and env.sfn.calls == []


# --- what already held -------------------------------------------------------------------------------------
def test_tampered_signature_or_expiry_cannot_decide(env: Env) -> None:
    approval, link = open_approval(env)
    exp, sig = _link_form(link)["exp"], _link_form(link)["sig"]
    for bad in (with_param(link, "sig", sig[::-1]), with_param(link, "exp", str(int(exp) + 86400)),
                link.split("?")[0]):
        assert get(bad)[0] == 403 and post(bad, "approve")[0] == 403
    _nothing_decided(env, approval.approval_id)


def test_link_of_one_approval_cannot_decide_another(env: Env) -> None:
    _, link = open_approval(env)
    second, _ = open_approval(env, index=1, token="another-task-token")
    swapped = f"{BASE}/approvals/{second.approval_id}?{urlsplit(link).query}"
    assert get(swapped)[0] == 403 and post(swapped, "approve")[0] == 403
    _nothing_decided(env, second.approval_id)


def test_expired_link_cannot_decide(env: Env) -> None:
    approval, link = open_approval(env)
    env.clock.now = approval.expires_at + timedelta(seconds=1)
    assert post(link, "approve")[0] == 410
    _nothing_decided(env, approval.approval_id)


def test_replayed_decision_changes_nothing(env: Env) -> None:
    approval, link = open_approval(env)
    assert post(link, "approve", "fine")[0] == 200
    assert post(link, "reject", "replayed")[0] == 200
    assert env.store.get(approval.approval_id).status == "APPROVED" and len(env.sfn.calls) == 1


def test_mail_scanner_get_decides_nothing(env: Env) -> None:
    approval, link = open_approval(env)
    for agent in ("Microsoft Defender SafeLinks", "Proofpoint URL Defense", "Mimecast"):
        assert get(link, agent=agent)[0] == 200
    _nothing_decided(env, approval.approval_id)


def test_html_injection_in_the_comment_is_escaped(env: Env) -> None:
    _, link = open_approval(env)
    status, body, _ = post(link, "reject", "<script>alert(1)</script>")
    assert status == 200 and "<script>" not in body


def test_header_injection_through_the_approval_id_is_refused(env: Env) -> None:
    status, _, headers = get(f"{BASE}/approvals/{HANDOFF}.abc%0d%0aSet-Cookie:x=1?exp=1&sig=x")
    assert status == 403 and not any("set-cookie" in k.lower() for k in headers)


def test_security_headers_forbid_framing_caching_and_referrers(env: Env) -> None:
    _, link = open_approval(env)
    _, _, headers = get(link)
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in headers[
        "Content-Security-Policy"]


# --- item 9: no enumeration oracle ---------------------------------------------------------------------------
def test_unknown_approval_id_and_bad_signature_answer_identically(env: Env) -> None:
    approval, link = open_approval(env)
    bad_signature = with_param(link, "sig", "A" * 43)
    unknown_id = link.replace(f"{HANDOFF}.", f"{HANDOFF}.Z")
    malformed_id = f"{BASE}/approvals/not-an-id?{urlsplit(link).query}"
    answers = {(get(u)[0], get(u)[1]) for u in (bad_signature, unknown_id, malformed_id)}
    answers |= {post(u, "approve")[:2] for u in (bad_signature, unknown_id, malformed_id)}
    assert len(answers) == 1 and next(iter(answers))[0] == 403
    _nothing_decided(env, approval.approval_id)


# --- item 4: malformed requests are 400 or 403, never 500, never a stack trace ------------------------------
@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture):
    caplog.set_level(logging.INFO)  # botocore's DEBUG lines echo stored items: what the app logs is at issue
    for name in ("closed-won-handoff", "handoff"):
        caplog.set_level(logging.DEBUG, logger=name)
    return lambda: caplog.text + capsys.readouterr().out


@pytest.mark.parametrize("exp", ["999999999999", "99999999999999999999", "-1", "1e9", "١٢٣", "²", "", "12.5"])
def test_absurd_or_non_numeric_expiry_is_refused_without_a_stack_trace(env: Env, exp: str, log_text) -> None:
    approval, link = open_approval(env)
    bad = with_param(link, "exp", exp)
    assert get(bad)[0] == 403
    assert _form_post(bad, urlencode(_link_form(bad, decision="approve")))[0] == 403
    assert "Traceback" not in log_text()
    _nothing_decided(env, approval.approval_id)


@pytest.mark.parametrize("extra", [
    {"decision2": "approve"},  # a field the form does not have
    {f"f{i}": "x" for i in range(20)},  # more fields than the form has
])
def test_form_with_extra_fields_is_400(env: Env, extra: dict, log_text) -> None:
    approval, link = open_approval(env)
    status, body, _ = _form_post(link, urlencode(_link_form(link, decision="approve") | extra))
    assert status == 400 and "cannot be read" in body and "Traceback" not in log_text()
    _nothing_decided(env, approval.approval_id)


@pytest.mark.parametrize(("body", "b64"), [
    ("decision=approve&decision=reject", False),  # a field twice
    ("%%%&&==", False),  # broken form syntax
    ("decision=%FF%FE", False),  # percent-encoded bytes that are not UTF-8
    ("not base64 at all!", True),
    (base64.b64encode(b"decision=\xff\xfe").decode(), True),  # base64 of bytes that are not UTF-8
    ("comment=" + "x" * 100_000, False),  # oversized
])
def test_malformed_or_oversized_form_is_400_without_a_stack_trace(env: Env, body: str, b64: bool,
                                                                  log_text) -> None:
    approval, link = open_approval(env)
    query = urlencode(_link_form(link))
    status, _, _ = _form_post(link, body if b64 else f"{query}&{body}", b64=b64)
    assert status == 400 and "Traceback" not in log_text()
    _nothing_decided(env, approval.approval_id)


def test_task_token_never_reaches_pages_links_emails_or_logs(env: Env, log_text) -> None:
    _, link = open_approval(env)
    pages = [get(link)[1], post(link, "approve", "ok")[1]]
    emails = [m.as_string() for m in env.mailer.sent]
    for text in [*pages, link, *emails, log_text()]:
        assert TOKEN not in text
