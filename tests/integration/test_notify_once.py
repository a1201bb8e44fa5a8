"""Notices from retried steps (the fix request, the launch packet) are emailed once per handoff and
key: a retry finds the notice recorded and sends nothing."""

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from handoff.adapters.mailer import as_html, render_notice
from handoff.logic import notices
from tests.support.aws import create_handoff_table, forget_aws_clients

REGION = "eu-west-1"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.setenv("HANDOFF_TABLE", "handoffs")
        monkeypatch.setenv("MAIL_FROM", "Handoff <handoff@example-consulting.com>")
        create_handoff_table("handoffs", REGION)
        boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example-consulting.com")
        forget_aws_clients()
        yield
        forget_aws_clients()


def sent() -> list:
    return ses_backends["123456789012"][REGION].sent_messages


def notice(subject: str) -> object:
    return render_notice(to="grace.tan@example-consulting.com", subject=subject, text="Fix it.", html=as_html("Fix it."))


def test_a_notice_is_sent_once_per_handoff_and_key(environment: None) -> None:
    first = notices.notify_once("ho-1", "fix-request#0", notice("Action needed"))
    assert first and len(sent()) == 1
    assert notices.notify_once("ho-1", "fix-request#0", notice("Action needed")) is None  # the step retried
    assert len(sent()) == 1
    # The next fix round, and another handoff, are other notices.
    assert notices.notify_once("ho-1", "fix-request#1", notice("Action needed"))
    assert notices.notify_once("ho-2", "fix-request#0", notice("Action needed"))
    assert len(sent()) == 3
    item = boto3.resource("dynamodb", region_name=REGION).Table("handoffs").get_item(
        Key={"pk": "HANDOFF#ho-1", "sk": "NOTICE#fix-request#0"})["Item"]
    assert item["messageId"] == first and item["sentAt"].endswith("Z")


def test_exceptions_are_queued_once_per_handoff_and_key(environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retried CheckReadiness or CloseHandoff finds its exceptions queued and sends nothing again."""
    from handoff.contracts import ExceptionEntry

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="exceptions")["QueueUrl"]
    monkeypatch.setenv("EXCEPTIONS_QUEUE_URL", url)
    blocking = [ExceptionEntry(code="APPROVAL_TIMEOUT", severity="BLOCKING", step="Approval_Timeout", message="late")]
    first = notices.queue_exceptions_once("ho-1", "approval_timeout#0", "BLOCKED", blocking)
    assert first is not None
    assert notices.queue_exceptions_once("ho-1", "approval_timeout#0", "BLOCKED", blocking) is None  # retried
    assert notices.queue_exceptions_once("ho-1", "approval_timeout#1", "BLOCKED", blocking)  # the next round
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2 and first in {m["MessageId"] for m in messages}
