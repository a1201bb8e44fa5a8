"""Attack: a forwarded approval email, a shared mailbox or a link-rewriting gateway decides in the
approver's name (issue 13, item 2). Over real HTTP on the embedded runtime, per verification mode of
the approver directory: `code` (the default: a one-time code mailed to the approver's address when
someone chooses a decision), `link` (possession only, and the audit says so) and `signin` (the link
decides nothing; the console does, signed in as the approver)."""

import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from joserfc import jwt
from joserfc.jwk import RSAKey

from handoff.adapters import console_auth
from handoff.adapters.approvals_store import ApprovalStore
from handoff.adapters.signing_keys import secret_key
from handoff.domain.approvals import Approval
from handoff.domain.approvals.verification import LINK_HOLDER, MAX_CODE_ATTEMPTS
from local.console import LocalConsole
from local.provision import REGION
from local.runtime import ROOT, EmbeddedRuntime
from tests.local.test_approvals_end_to_end import KINDS, emea_deal, links_for, record_of
from tests.support.http import form_request
from tests.support.runtime_fixture import runtime  # noqa: F401 - one embedded runtime for this module

APPROVERS = (ROOT / "functions" / "handoff" / "config" / "approvers.yaml").read_text()


def http(method: str, url: str, fields: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, str]:
    return form_request(method, url, fields, {"User-Agent": "binding-test/1.0", **(headers or {})}, timeout=10)


def post_link(link: str, **fields: str) -> tuple[int, str]:
    """POST to the approval's route with the link's own exp and sig, as its page's form does."""
    url = urllib.parse.urlsplit(link)
    signed = dict(urllib.parse.parse_qsl(url.query))
    return http("POST", link.split("?")[0], {**signed, **fields})


def approvals(runtime: EmbeddedRuntime) -> ApprovalStore:
    return ApprovalStore(runtime.session.resource("dynamodb").Table(runtime.env("HANDOFF_TABLE")))


def approval_of(runtime: EmbeddedRuntime, link: str) -> Approval:
    approval_id = urllib.parse.unquote(urllib.parse.urlsplit(link).path.rsplit("/", 1)[1])
    approval = approvals(runtime).get(approval_id)
    assert approval is not None
    return approval


def actions(approval: Approval) -> list[str]:
    return [entry.action for entry in approval.audit]


def codes_mailed(runtime: EmbeddedRuntime, since: int) -> list[tuple[str, str]]:
    """(recipient, code) of every code email sent since the outbox held `since` emails."""
    return [(mail.to, code) for mail in runtime.emails()[since:] if (code := runtime.decision_code(mail))]


@contextmanager
def directory(runtime: EmbeddedRuntime, **verification: str) -> Iterator[None]:
    """The approver directory with these verification modes, as an operator would set it."""
    name = runtime.env("APPROVERS_PARAMETER")
    changed = yaml.safe_load(APPROVERS) | {"verification": verification}
    runtime.set_parameter(name, yaml.safe_dump(changed))
    try:
        yield
    finally:
        runtime.set_parameter(name, APPROVERS)


def test_a_forwarded_link_cannot_decide_without_the_code_mailed_to_the_approver(runtime: EmbeddedRuntime) -> None:
    runtime.publish([emea_deal("fwd-opportunity-1")])
    runtime.wait_settled()
    links = links_for(runtime, "fwd-opportunity-1")
    assert set(links) == KINDS
    request, link = links["finance"]
    approver = approval_of(runtime, link).approver
    assert approver in request.to and approval_of(runtime, link).verification == "code"

    # A mail scanner opens the link, then the person it was forwarded to chooses Approve.
    assert http("GET", link)[0] == 200
    sent = len(runtime.emails())
    status, page = post_link(link, decision="approve", comment="forwarded to me")
    assert status == 200 and "Confirm it is you" in page and approver not in page
    [(to, code)] = codes_mailed(runtime, sent)
    assert approver in to and code not in page  # only the approver's mailbox has it

    # Guessing: every wrong code is refused and counted; after the last attempt even the right one is.
    for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
        status, page = post_link(link, code=f"{(int(code) + attempt) % 1_000_000:06d}")
        assert status == 403, (attempt, page)
    assert "Too many wrong codes" in page
    status, page = post_link(link, code=code)
    assert status == 403 and "Too many wrong codes" in page
    held = approval_of(runtime, link)
    assert held.status == "PENDING" and held.decided_by is None
    assert record_of(runtime, "fwd-opportunity-1").status == "AWAITING_APPROVAL"  # the workflow still waits
    assert actions(held).count("code-refused") == MAX_CODE_ATTEMPTS and "code-exhausted" in actions(held)
    assert "code-sent" in actions(held)
    # Whoever guessed held the link; the audit does not pretend it was the approver.
    assert {e.actor for e in held.audit if e.action in ("viewed", "code-sent", "code-refused", "code-exhausted")} == {
        LINK_HOLDER}

    # The approver, who receives the code, decides: the audit says the code verified them.
    sent = len(runtime.emails())
    status, page = runtime.decide(link, "approve", "Margin checked")
    assert status == 200 and "Approved, thank you" in page, page
    [(to, used)] = codes_mailed(runtime, sent)
    decided = approval_of(runtime, link)
    [entry] = [e for e in decided.audit if e.action == "approved"]
    assert (decided.status, entry.actor, entry.verified_by) == ("APPROVED", approver, "code")

    # The code works once.
    status, page = post_link(link, code=used)
    assert status == 400 and "already used" in page
    assert "code-reused" in actions(approval_of(runtime, link))

    # The other approvals the same way; the handoff resumes and activates.
    for kind in KINDS - {"finance"}:
        assert runtime.decide(links[kind][1], "approve", "fine")[0] == 200
    runtime.wait_settled()
    assert record_of(runtime, "fwd-opportunity-1").status == "ACTIVATED"


def test_a_code_cannot_be_entered_with_a_tampered_link_nor_change_the_decision(runtime: EmbeddedRuntime) -> None:
    runtime.publish([emea_deal("tamper-code-1")])
    runtime.wait_settled()
    link = links_for(runtime, "tamper-code-1")["compliance"][1]
    sent = len(runtime.emails())
    assert post_link(link, decision="reject", comment="No DPA")[0] == 200
    [(_to, code)] = codes_mailed(runtime, sent)
    # Another approval's id with this link's signature, or an altered signature: refused as today.
    other = links_for(runtime, "tamper-code-1")["finance"][1]
    swapped = other.split("?")[0] + "?" + urllib.parse.urlsplit(link).query
    assert post_link(swapped, code=code)[0] == 403
    assert post_link(link.replace("sig=", "sig=A"), code=code)[0] == 403
    # The code applies the decision it was mailed for, whatever else the form says.
    status, page = post_link(link, code=code, decision="approve")
    assert status == 200 and "Rejection recorded" in page
    assert approval_of(runtime, link).status == "REJECTED" and approval_of(runtime, link).comment == "No DPA"
    runtime.wait_settled()
    assert record_of(runtime, "tamper-code-1").status == "REJECTED"


def test_link_verification_decides_on_possession_and_the_audit_says_the_actor_is_unverified(
        runtime: EmbeddedRuntime) -> None:
    with directory(runtime, legal="link", finance="link", compliance="link", procurement="link"):
        runtime.publish([emea_deal("link-opportunity-1")])
        runtime.wait_settled()
    links = links_for(runtime, "link-opportunity-1")
    sent = len(runtime.emails())
    for _mail, link in links.values():
        status, page = runtime.decide(link, "approve", "ok")
        assert status == 200 and "Approved, thank you" in page
    assert codes_mailed(runtime, sent) == []
    for _mail, link in links.values():
        approval = approval_of(runtime, link)
        [entry] = [e for e in approval.audit if e.action == "approved"]
        assert (approval.verification, entry.verified_by) == ("link", "link")
    runtime.wait_settled()
    assert record_of(runtime, "link-opportunity-1").status == "ACTIVATED"


# --- sign-in -------------------------------------------------------------------------------------------------
POOL_KEY = RSAKey.generate_key(2048, parameters={"kid": "binding-test"})


def id_token(runtime: EmbeddedRuntime, email: str) -> str:
    """An ID token as the console's Cognito pool signs it (its JWKS is served to the console below)."""
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{runtime.env('COGNITO_USER_POOL_ID')}"
    claims = {"iss": issuer, "aud": runtime.env("COGNITO_CLIENT_ID"), "token_use": "id", "sub": email,
              "iat": int(time.time()), "exp": int(time.time()) + 600, "email": email, "name": email,
              "cognito:groups": ["finance"]}
    return jwt.encode({"alg": "RS256", "kid": "binding-test"}, claims, POOL_KEY)


def console_decide(runtime: EmbeddedRuntime, console: LocalConsole, email: str, approval_id: str
                   ) -> tuple[int, str, str]:
    """Sign in as `email`, read My approvals, then POST a decision with the session's CSRF token (the
    one every console form of that session carries). Returns the status, the answer and My approvals."""
    token = id_token(runtime, email)
    cookie = {"Cookie": f"{console_auth.SESSION_COOKIE}={token}"}
    status, mine = http("GET", f"{console.url}approvals", headers=cookie)
    assert status == 200, mine
    key = secret_key(runtime.env("CONSOLE_SECRET_ARN"))  # the console's CSRF key, read as the console does
    iat = jwt.decode(token, POOL_KEY).claims["iat"]
    session = console_auth.Operator(email=email, name=email, groups=(), verified_by="cognito",
                                    session=f"{email}:{iat}")
    status, page = http("POST", f"{console.url}approvals/{urllib.parse.quote(approval_id, safe='')}",
                        {"csrf": console_auth.csrf_token(session, key), "decision": "approve",
                         "comment": "signed in"}, headers=cookie)
    return status, page, mine


def test_signin_verification_refuses_the_link_and_the_console_decides_as_the_approver_only(
        runtime: EmbeddedRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    with directory(runtime, finance="signin"):
        runtime.publish([emea_deal("signin-opportunity-1")])
        runtime.wait_settled()
    links = links_for(runtime, "signin-opportunity-1")
    link = links["finance"][1]
    approval = approval_of(runtime, link)
    assert approval.verification == "signin"
    status, page = http("GET", link)
    assert status == 200 and "Decide in the console" in page and 'name="decision"' not in page
    status, page = post_link(link, decision="approve", comment="from the link")
    assert status == 403 and "Sign in to decide" in page
    assert approval_of(runtime, link).status == "PENDING" and "decision-refused" in actions(approval_of(runtime, link))

    # The console, with Cognito sign-in (the pool's keys served by this test instead of Cognito's JWKS URL).
    monkeypatch.setattr(console_auth, "_JWKS", console_auth.JwksCache(lambda _url: {"keys": [
        POOL_KEY.as_dict(private=False)]}))
    console = LocalConsole(runtime).start()
    runtime.lambdas.extra["CONSOLE_AUTH"] = "cognito"
    try:
        # Someone else, signed in (the link forwarded to them): not listed, and a forged POST is refused.
        status, page, mine = console_decide(runtime, console, "someone.else@example-consulting.com",
                                            approval.approval_id)
        assert approval.approval_id not in mine
        assert status in (404, 409) and "not waiting for you" in page, (status, page)
        assert approval_of(runtime, link).status == "PENDING"
        status, page, mine = console_decide(runtime, console, approval.approver, approval.approval_id)
        assert approval.approval_id in mine and status == 200, page
    finally:
        runtime.lambdas.extra.pop("CONSOLE_AUTH", None)
        runtime.lambdas.extra.pop("CONSOLE_URL", None)
        console.stop()
    decided = approval_of(runtime, link)
    [entry] = [e for e in decided.audit if e.action == "approved"]
    assert (decided.status, entry.actor, entry.verified_by) == ("APPROVED", approval.approver, "cognito")
    for kind in KINDS - {"finance"}:
        assert runtime.decide(links[kind][1], "approve", "fine")[0] == 200
    runtime.wait_settled()
    assert record_of(runtime, "signin-opportunity-1").status == "ACTIVATED"
