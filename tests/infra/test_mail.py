"""SES on a new account: a configurable sender identity, a configuration set publishing bounces and
complaints to an encrypted topic the MailFeedback function is subscribed to."""

import json

import pytest

from infra.configuration import ContextError
from tests.infra.test_deployment import environment, synth
from tests.infra.test_stack import function_logical_id, resources


def test_bounces_and_complaints_go_from_the_configuration_set_to_the_feedback_function(template: dict) -> None:
    [config_set] = resources(template, "AWS::SES::ConfigurationSet")
    [destination] = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": config_set}
    assert sorted(props["EventDestination"]["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert props["EventDestination"]["Enabled"] is True
    topic_id = props["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"]
    topic = template["Resources"][topic_id]
    # Encrypted with a rotating customer managed key that SES may use (an AWS managed key would refuse SES).
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = template["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert any(st.get("Principal") == {"Service": "ses.amazonaws.com"} for st in key["KeyPolicy"]["Statement"])
    [subscription] = [s for s in resources(template, "AWS::SNS::Subscription").values()
                      if s["Properties"]["TopicArn"] == {"Ref": topic_id}]
    assert subscription["Properties"]["Protocol"] == "lambda"
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": [function_logical_id(template, "mail_feedback"), "Arn"]}
    feedback = resources(template, "AWS::Lambda::Function")[function_logical_id(template, "mail_feedback")]
    assert "DeadLetterConfig" in feedback["Properties"]  # asynchronous: retried twice, then kept


def test_every_email_names_the_configuration_set_and_an_existing_identity_is_not_created(template: dict) -> None:
    [config_set] = resources(template, "AWS::SES::ConfigurationSet")
    env = environment(template, "request_approval")
    assert env["SES_CONFIGURATION_SET"] == {"Ref": config_set}
    assert env["MAIL_FROM"] == env["SES_IDENTITY"] == "handoffs@example.com"
    assert resources(template, "AWS::SES::EmailIdentity") == {}  # a verified identity the stack does not own
    fn = resources(template, "AWS::Lambda::Function")[function_logical_id(template, "request_approval")]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    [send] = [st for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
              for st in p["Properties"]["PolicyDocument"]["Statement"] if "ses:SendRawEmail" in st["Action"]]
    text = json.dumps(send["Resource"])
    assert ":identity/handoffs@example.com" in text and ":configuration-set/" in text and config_set in text


def test_a_domain_identity_with_easy_dkim_when_asked() -> None:
    template = synth(mailFrom="handoffs@mail.yourfirm.example", sesIdentity="yourfirm.example",
                     sesCreateDomainIdentity=True)
    [identity] = resources(template, "AWS::SES::EmailIdentity").values()
    props = identity["Properties"]
    assert props["EmailIdentity"] == "yourfirm.example"
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    assert props["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}  # Easy DKIM
    assert "ConfigurationSetAttributes" in props
    assert {f"DkimRecord{n}" for n in (1, 2, 3)} <= set(template["Outputs"])
    assert environment(template, "request_approval")["SES_IDENTITY"] == "yourfirm.example"


@pytest.mark.parametrize(("context", "key"), [
    ({"mailFrom": "handoffs at example"}, "mailFrom"),
    ({"mailFrom": "handoffs@yourfirm.example", "sesIdentity": "other.example"}, "sesIdentity"),
    ({"mailFrom": "handoffs@yourfirm.example", "sesIdentity": "ops@yourfirm.example"}, "sesIdentity"),
    ({"sesCreateDomainIdentity": True}, "sesCreateDomainIdentity"),
])
def test_a_bad_sender_fails_the_synth_naming_the_key(context: dict, key: str) -> None:
    with pytest.raises(ContextError) as raised:
        synth(nag=False, **context)
    assert raised.value.key == key
