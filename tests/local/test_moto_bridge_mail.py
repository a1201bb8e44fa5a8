"""The bridge's SES and SNS patches: what SES's mailbox simulator would publish (the documented
event format, read back by the MailFeedback parser) and SNS's Lambda event shape."""

import json
from email.message import EmailMessage
from types import SimpleNamespace

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SnsModel

from handoff.adapters.ses_feedback import parse_feedback
from local.moto_bridge import ses_simulator_events, sns_lambda_event


def raw(to: str) -> str:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "handoffs@example.com", to, "Approval needed"
    message["X-SES-MESSAGE-TAGS"] = "handoff=ho-0123456789abcdef, notice=approval-legal"
    message.set_content("Hello")
    return message.as_string()


def test_the_simulator_bounce_address_yields_a_bounce_event_with_the_message_tags() -> None:
    [event] = ses_simulator_events("cs", "msg-1", "handoffs@example.com", raw("Ann <bounce@simulator.amazonses.com>"))
    feedback = parse_feedback(json.dumps(event))
    assert feedback.event_type == "Bounce" and feedback.bounce.bounceType == "Permanent"
    assert feedback.mail.tag("handoff") == "ho-0123456789abcdef" and feedback.mail.tag("notice") == "approval-legal"
    assert feedback.mail.tags["ses:configuration-set"] == ["cs"]
    assert [r.emailAddress for r in feedback.recipients] == ["bounce@simulator.amazonses.com"]
    [complaint] = ses_simulator_events("cs", "msg-2", "handoffs@example.com", raw("complaint@simulator.amazonses.com"))
    assert parse_feedback(json.dumps(complaint)).event_type == "Complaint"
    assert ses_simulator_events("cs", "msg-3", "handoffs@example.com", raw("legal@example.com")) == []


def test_sns_invokes_a_function_with_the_records_powertools_parses() -> None:
    subscription = SimpleNamespace(arn="arn:aws:sns:us-east-1:123456789012:topic:sub-1",
                                   topic=SimpleNamespace(arn="arn:aws:sns:us-east-1:123456789012:topic"))
    event = sns_lambda_event(subscription, '{"eventType": "Bounce"}', "m-1", None)
    [record] = parse(event=event, model=SnsModel).Records
    assert record.Sns.Message == '{"eventType": "Bounce"}' and record.Sns.TopicArn.endswith(":topic")
    assert record.EventSubscriptionArn == subscription.arn
