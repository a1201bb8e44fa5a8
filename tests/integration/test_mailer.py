"""Approval emails: real MIME, one link, everything escaped, no task token; sent through SES."""

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import boto3
import pytest
from moto import mock_aws

from handoff.adapters.configuration import load_approver_directory
from handoff.adapters.mailer import (
    Mailer,
    render_approval_request,
    render_escalation,
    render_escalation_notice,
    render_notice,
    render_reminder,
)
from handoff.contracts import parse_event
from handoff.domain.approvals import (
    Approval,
    approval_link,
    escalated_approval,
    new_approval,
    required_approvals,
)
from handoff.domain.policy import ApprovalRules
from tests.support.fixtures import fixture_path

TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAcret+task/token=="
KEY = b"s" * 48
BASE = "https://abc.execute-api.eu-west-1.amazonaws.com/v1"
SENDER = "Handoffs <handoffs@example-consulting.com>"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
URL = re.compile(r"https?://[^\s\"'<>]+")


def _approval(reason: str | None = None) -> Approval:
    event = parse_event(fixture_path("closed-won", "emea-milestone-erp-rollout").read_text())
    requirement = required_approvals(event, ApprovalRules(), load_approver_directory(), non_standard_clauses=[],
                                     estimated_margin=None)[0]
    if reason:
        requirement = requirement.model_copy(update={"reason": reason})
    return new_approval("ho-0123456789abcdef.AAAAAAAAAAAA", "ho-0123456789abcdef", requirement, event, TOKEN, T0)


def _parts(msg: EmailMessage) -> tuple[str, str]:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def test_approval_request_is_a_proper_multipart_email_with_one_link() -> None:
    approval = _approval()
    link = approval_link(BASE, approval, KEY)
    msg = render_approval_request(approval, link, sender=SENDER, now=T0)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["To"] == "Elena Rossi <privacy-emea@example-consulting.com>"
    assert msg["From"] == SENDER
    assert msg["Reply-To"] == "Lena Hoffmann <lena.hoffmann@example-consulting.com>"
    assert msg["Subject"] == "Approval needed (compliance): Nordwerk Group - S/4 rollout, DACH and France " \
                             "(006Qy00000AbCdE1)"
    assert msg["Date"] == "Fri, 20 Nov 2026 15:00:00 +0000"
    assert msg["Message-ID"].endswith("@example-consulting.com>")
    assert msg["Auto-Submitted"] == "auto-generated"
    text, html = _parts(msg)
    assert URL.findall(text) == [link]
    assert URL.findall(html) == [link.replace("&", "&amp;")]
    assert "GDPR Art. 28" in text and "Paie Connect SAS" in text and "Nordwerk Industrie GmbH (DE)" in text
    assert "Personal data is processed in the EU/EEA (DE, FR)." in html
    assert "opening the page decides nothing" in text
    assert "Sun 22 Nov 2026, 15:00 UTC" in text  # the deadline


def test_task_token_never_appears_in_any_email() -> None:
    approval = _approval()
    second = escalated_approval(approval, "ho-0123456789abcdef.BBBBBBBBBBBB", T0 + timedelta(hours=48))
    messages = [
        render_approval_request(approval, approval_link(BASE, approval, KEY), sender=SENDER, now=T0),
        render_reminder(approval, approval_link(BASE, approval, KEY), sender=SENDER, now=T0),
        render_escalation(second, approval_link(BASE, second, KEY), sender=SENDER, now=T0),
        render_escalation_notice(approval, second, sender=SENDER, now=T0),
    ]
    for msg in messages:
        raw = msg.as_bytes()
        assert TOKEN.encode() not in raw and b"AQCEAAAAKgAAAAMAAAAAAAAAAcret" not in raw
        text, html = _parts(msg)
        assert "AQCEAAAAKgAAAAMAAAAAAAAAAcret" not in text + html


def test_reminder_escalation_and_notice() -> None:
    approval = _approval()
    second = escalated_approval(approval, "ho-0123456789abcdef.BBBBBBBBBBBB", T0 + timedelta(hours=48))
    reminder = render_reminder(approval, approval_link(BASE, approval, KEY), now=T0)
    assert reminder["Subject"].startswith("Reminder: approval needed (compliance)")
    assert "will be escalated" in _parts(reminder)[0]
    link = approval_link(BASE, second, KEY)
    escalation = render_escalation(second, link, now=T0)
    assert escalation["To"] == "Henrik Lund <chief-compliance@example-consulting.com>"
    text, _ = _parts(escalation)
    assert "Elena Rossi <privacy-emea@example-consulting.com> did not answer" in text
    assert URL.findall(text) == [link]
    notice = render_escalation_notice(approval, second, now=T0)
    assert notice["To"] == "Elena Rossi <privacy-emea@example-consulting.com>"
    text, html = _parts(notice)
    assert "passed to Henrik Lund" in text and URL.findall(text + html) == []


def test_interpolated_text_is_escaped_in_html() -> None:
    approval = _approval(reason='<script>alert("x")</script> & <b>bold</b>')
    _, html = _parts(render_approval_request(approval, approval_link(BASE, approval, KEY), now=T0))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; &lt;b&gt;" in html


def test_generic_notice() -> None:
    msg = render_notice("ops@example-consulting.com", "Handoff blocked", "Plain words.", "<p>Plain words.</p>",
                        sender=SENDER, now=T0)
    assert msg["To"] == "ops@example-consulting.com" and msg["Subject"] == "Handoff blocked"
    assert _parts(msg) == ("Plain words.\n", "<p>Plain words.</p>\n")


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("ses", region_name="eu-west-1")
        client.verify_email_identity(EmailAddress="handoffs@example-consulting.com")
        yield client


def test_mailer_sends_raw_mime_through_ses(ses) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    approval = _approval()
    msg = render_approval_request(approval, approval_link(BASE, approval, KEY), now=T0)
    message_id = Mailer(ses, SENDER).send(msg)
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
    assert sent.id == message_id
    assert "privacy-emea@example-consulting.com" in sent.destinations
    parsed = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert parsed["From"] == SENDER and parsed["Message-ID"].endswith("@example-consulting.com>")
    assert parsed.get_body(("html",)) is not None
    assert TOKEN not in sent.raw_data


def test_unverified_sender_is_refused(ses) -> None:
    approval = _approval()
    msg = render_approval_request(approval, approval_link(BASE, approval, KEY), now=T0)
    with pytest.raises(ses.exceptions.MessageRejected):
        Mailer(ses, "someone@elsewhere.example").send(msg)
