"""SES bounce and complaint notifications (the documented event-publishing format) read into what a
bounced approval or fix request means for the handoff."""

import json

import pytest

from handoff.adapters.ses_feedback import message_tags, parse_feedback
from handoff.contracts import ContractError
from handoff.domain.mail_feedback import assess

# The Bounce record of the SES developer guide ("Examples of event data that Amazon SES publishes to
# Amazon SNS"), with this product's tags.
BOUNCE = {
    "eventType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
               "bouncedRecipients": [{"emailAddress": "recipient@example.com", "action": "failed", "status": "5.1.1",
                                      "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
               "timestamp": "2017-08-05T00:41:02.669Z",
               "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
               "reportingMTA": "dsn; mta.example.com"},
    "mail": {"timestamp": "2017-08-05T00:40:02.012Z", "source": "Sender Name <sender@example.com>",
             "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
             "sendingAccountId": "123456789012",
             "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
             "destination": ["recipient@example.com"], "headersTruncated": False,
             "headers": [{"name": "From", "value": "Sender Name <sender@example.com>"}],
             "commonHeaders": {"from": ["Sender Name <sender@example.com>"], "to": ["recipient@example.com"],
                               "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
                               "subject": "Message sent from Amazon SES"},
             "tags": {"ses:configuration-set": ["ConfigSet"], "ses:source-ip": ["192.0.2.0"],
                      "ses:from-domain": ["example.com"], "ses:caller-identity": ["ses_user"],
                      "handoff": ["ho-0123456789abcdef"], "notice": ["approval-legal"]}},
}


def test_a_bounce_record_is_read_with_its_tags_recipients_and_type() -> None:
    feedback = parse_feedback(json.dumps(BOUNCE))
    assert feedback is not None and feedback.event_type == "Bounce"
    assert (feedback.mail.tag("handoff"), feedback.mail.tag("notice")) == ("ho-0123456789abcdef", "approval-legal")
    assert [r.emailAddress for r in feedback.recipients] == ["recipient@example.com"]
    assert feedback.feedback_id.startswith("01000157c44f053b")
    # Identity notifications (no configuration set) name the type notificationType and carry no tags.
    identity = {**{k: v for k, v in BOUNCE.items() if k != "eventType"}, "notificationType": "Bounce"}
    assert parse_feedback(json.dumps(identity)).event_type == "Bounce"


def test_deliveries_are_ignored_and_a_foreign_message_is_an_error_naming_the_field() -> None:
    assert parse_feedback(json.dumps({"eventType": "Delivery", "mail": BOUNCE["mail"]})) is None
    broken = {**BOUNCE, "bounce": {**BOUNCE["bounce"], "bouncedRecipients": [{"status": "5.1.1"}]}}
    with pytest.raises(ContractError) as raised:
        parse_feedback(json.dumps(broken))
    assert raised.value.problems[0]["field"] == "bounce.bouncedRecipients.0.emailAddress"
    with pytest.raises(ContractError, match="Sns.Message: not JSON"):
        parse_feedback("<html>")


def test_a_bounced_approval_is_a_blocking_exception_naming_the_approver() -> None:
    outcome = assess("approval-legal", "Bounce", [("legal@example.com", "smtp; 550 5.1.1 user unknown")],
                     bounce_type="Permanent", bounce_sub_type="General")
    assert outcome is not None and outcome.timeline_status == "BOUNCED"
    entry = outcome.exception
    assert (entry.code, entry.severity, entry.field, entry.owner_group) == (
        "APPROVAL_EMAIL_BOUNCED", "BLOCKING", "approvals.legal.approver", "deal-desk")
    assert "legal approval email to legal@example.com (smtp; 550 5.1.1 user unknown) bounced" in entry.message
    assert "approver directory" in entry.message


def test_a_bounced_fix_request_names_its_round_and_the_owner() -> None:
    outcome = assess("fix-request-1", "Bounce", [("owner@example.com", None)], bounce_type="Transient",
                     bounce_sub_type="MailboxFull")
    assert outcome.exception.code == "FIX_REQUEST_EMAIL_BOUNCED"
    assert outcome.exception.field == "opportunity.owner.email"
    assert "fix request (round 2) to owner@example.com bounced (Transient, MailboxFull)" in outcome.exception.message


def test_complaints_and_other_notices_are_noted_without_an_exception() -> None:
    complaint = assess("approval-finance", "Complaint", [("cfo@example.com", None)])
    assert complaint.timeline_status == "COMPLAINED" and complaint.exception is None
    packet = assess("launch-packet", "Bounce", [("leads@example.com", None)], bounce_type="Permanent")
    assert packet.exception is None and packet.timeline_status == "BOUNCED"
    assert assess("newsletter", "Bounce", [("x@example.com", None)]) is None


def test_message_tags_use_only_the_characters_ses_allows() -> None:
    assert message_tags("ho-0123456789abcdef", "fix-request#2") == "handoff=ho-0123456789abcdef, notice=fix-request-2"
