"""One-time decision codes on moto with the approval API's clock driven by the test: a code expires
after its lifetime, only the digest is stored, a new code replaces the old one, and the number of
codes one approval may mail is capped. (Over HTTP on the embedded runtime: tests/security/
test_approver_binding.py.)"""

import re
from datetime import timedelta

import pytest

from handoff.domain.approvals.verification import CODE_LIFETIME, MAX_CODES
from tests.integration import test_approval_api
from tests.integration.test_approval_api import Env, api_event, get, open_approval, post
from tests.integration.test_approval_api import call as _call

env = test_approval_api.env  # the fixture: moto tables, the signing key, a stub Step Functions


@pytest.fixture
def coded(env: Env) -> Env:
    return env  # codes go out through the API's own Mailer to SES (moto); env.mailer reads what SES took


def code_in(mail: object) -> str:
    [code] = re.findall(r"^ {4}(\d{3} \d{3})$", mail.get_body(("plain",)).get_content(), re.MULTILINE)
    return code.replace(" ", "")


def enter(link: str, code: str) -> tuple[int, str]:
    from urllib.parse import parse_qsl, urlsplit

    status, body, _headers = _call(api_event("POST", link.split("?")[0],
                                             dict(parse_qsl(urlsplit(link).query)) | {"code": code}))
    return status, body


def ask_code(coded: Env, link: str, decision: str = "approve", comment: str = "") -> str:
    status, page, _ = post(link, decision, comment)
    assert status == 200 and "Confirm it is you" in page, page
    mail = coded.mailer.sent[-1]
    assert "confirmation code" in mail["Subject"]
    return code_in(mail)


def test_an_expired_code_is_refused_with_400_and_audited(coded: Env) -> None:
    approval, link = open_approval(coded, verification="code")
    code = ask_code(coded, link)
    coded.clock.now += CODE_LIFETIME + timedelta(seconds=1)
    status, page = enter(link, code)
    assert status == 400 and "expired" in page
    stored = coded.store.get(approval.approval_id)
    assert stored.status == "PENDING" and "code-expired" in [e.action for e in stored.audit]
    assert coded.sfn.calls == []
    # A new code, within its lifetime, decides.
    code = ask_code(coded, link)
    assert enter(link, code)[0] == 200
    assert coded.store.get(approval.approval_id).status == "APPROVED" and len(coded.sfn.calls) == 1


def test_only_a_keyed_digest_is_stored_and_a_new_code_replaces_the_old(coded: Env) -> None:
    approval, link = open_approval(coded, verification="code")
    first = ask_code(coded, link)
    second = ask_code(coded, link)
    table = coded.store._table
    item = table.get_item(Key={"pk": f"HANDOFF#{approval.handoff_id}", "sk": f"APPROVAL#{approval.approval_id}"})["Item"]
    assert second not in str(item) and first not in str(item) and item["codesIssued"] == 2
    assert enter(link, first)[0] == 403 or first == second  # the replaced code no longer works
    assert enter(link, second)[0] == 200


def test_one_approval_mails_at_most_max_codes(coded: Env) -> None:
    approval, link = open_approval(coded, verification="code")
    for _ in range(MAX_CODES):
        ask_code(coded, link)
    sent = len(coded.mailer.sent)
    status, page, _ = post(link, "approve")
    assert status == 403 and "Too many codes" in page and len(coded.mailer.sent) == sent
    assert coded.store.get(approval.approval_id).status == "PENDING"


def test_a_code_for_a_link_verified_approval_is_a_bad_request(coded: Env) -> None:
    approval, link = open_approval(coded, verification="link")
    assert enter(link, "123456")[0] == 400
    assert get(link)[0] == 200 and coded.store.get(approval.approval_id).status == "PENDING"
