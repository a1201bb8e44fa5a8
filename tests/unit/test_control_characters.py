"""Text from the CRM with control characters: refused at the contract (NUL, other C0/C1 controls,
bidi overrides), naming the field; line breaks are kept in the record and made safe in emails."""

import email
import email.policy
import json

import pytest

from handoff.adapters.configuration import load_approver_directory
from handoff.adapters.mailer import one_line, render_approval_request, render_notice
from handoff.contracts import ContractError, parse_event
from handoff.domain.approvals import Contact, new_approval, required_approvals
from handoff.domain.policy import ApprovalRules
from tests.support.fixtures import fixture_path

FIXTURE = fixture_path("closed-won", "emea-milestone-erp-rollout")


def raw() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize(
    ("path", "text", "code"),
    [
        (("opportunity", "name"), "ERP\x00rollout", "U+0000"),
        (("account", "legalName"), "Acme \u202egnp.exe", "U+202E"),
        (("opportunity", "owner", "name"), "Lena\x1bHoffmann", "U+001B"),
        (("account", "billingAddress", "city"), "M\u2066unich", "U+2066"),
        (("contract", "clauses", 0, "title"), "Liability\x85cap", "U+0085"),
    ],
)
def test_control_characters_are_refused_naming_the_field(path: tuple, text: str, code: str) -> None:
    event = raw()
    target = event["detail"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = text
    with pytest.raises(ContractError) as caught:
        parse_event(event)
    field = "detail." + ".".join(str(p) for p in path).replace(".0.", "[0].")
    fields = [p["field"] for p in caught.value.problems]
    assert fields == [field]
    assert code in caught.value.problems[0]["message"]


def test_line_breaks_and_tabs_are_kept_in_the_record() -> None:
    event = raw()
    event["detail"]["opportunity"]["name"] = "ERP rollout\r\nphase 2\tDACH"
    assert parse_event(event).detail.opportunity.name == "ERP rollout\r\nphase 2\tDACH"


def _approval_for(event: dict):
    parsed = parse_event(event)
    requirement = required_approvals(parsed, ApprovalRules(), load_approver_directory(), non_standard_clauses=[],
                                     estimated_margin=None)[0]
    return new_approval("ho-0123456789abcdef.AAAAAAAAAAAA", "ho-0123456789abcdef", requirement, parsed,
                        "token", parsed.detail.occurred_at)


def test_a_line_break_in_deal_and_owner_names_makes_a_valid_email_without_injected_headers() -> None:
    event = raw()
    event["detail"]["opportunity"]["name"] = "ERP rollout\r\nBcc: attacker@evil.example"
    event["detail"]["opportunity"]["owner"]["name"] = "Lena\nHoffmann"
    msg = render_approval_request(_approval_for(event), "https://example.com/a", sender="h@example.com")
    wire = msg.as_bytes()  # raised "Header values may not contain linefeed" before
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]
    assert "ERP rollout Bcc: attacker@evil.example" in parsed["Subject"]


def test_notice_to_a_contact_whose_name_has_a_line_break() -> None:
    msg = render_notice(Contact(name="Lena\r\nHoffmann", email="lena@example.com"), "Action needed:\nERP", "t", "<p>t</p>")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed["To"] == "Lena Hoffmann <lena@example.com>"
    assert parsed["Subject"] == "Action needed: ERP"


def test_one_line_keeps_text_and_emoji_joiners() -> None:
    assert one_line(" a\tb\r\n c ") == "a b c"
    assert one_line("Zoë 👩\u200d💻") == "Zoë 👩\u200d💻"
