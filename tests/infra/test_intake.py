"""CRM intake infrastructure: the partner event bus rule (source pinned, detail-types allowed), the
webhook queue with its event source, secrets per CRM and least-privilege grants."""

import json

from aws_cdk.assertions import Match, Template

from infra.wiring import FUNCTIONS
from tests.infra.test_stack import _policy_actions, resources

SOURCES = ["aws.partner/salesforce.com/00D5e000000AbCdEAK/0YL5e000000AbCdGAA",  # cdk.json: one per relay channel
           "aws.partner/salesforce.com/00D5e000000AbCdEAK/0YL5e000000AbCeGAA"]


def function(template: dict, module: str) -> dict:
    return next(f for f in resources(template, "AWS::Lambda::Function").values()
                if f["Properties"]["Handler"] == f"handoff.handlers.{module}.handler")


def test_salesforce_events_reach_the_intake_only_from_the_pinned_source_and_allowed_detail_types(template: dict) -> None:
    buses = {name: b["Properties"] for name, b in resources(template, "AWS::Events::EventBus").items()
             if "EventSourceName" in b["Properties"]}
    assert sorted(b["EventSourceName"] for b in buses.values()) == SOURCES
    assert all(b["Name"] == b["EventSourceName"] for b in buses.values())
    rules = [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()
             if r["Properties"].get("Description", "").startswith("Salesforce Event Relay")]
    assert len(rules) == 2
    for props in rules:
        bus = buses[props["EventBusName"]["Ref"]]
        assert props["EventPattern"] == {"source": [bus["EventSourceName"]],
                                         "detail-type": ["Closed_Won_Handoff__e", "OpportunityChangeEvent"]}
        [target] = props["Targets"]
        assert "SalesforceIntake" in json.dumps(target["Arn"]) and "DeadLetterConfig" in target
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_hubspot_batches_are_queued_and_consumed_with_partial_failures(template: dict) -> None:
    mapping = next(m for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
                   if m["Properties"]["FunctionName"]["Ref"].startswith("HubSpotIntake"))["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = next(q for name, q in resources(template, "AWS::SQS::Queue").items() if name.startswith("HubSpotWebhookQueue"))
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * next(
        s.timeout_seconds for s in FUNCTIONS if s.logical_name == "HubSpotIntake")
    assert "RedrivePolicy" in queue["Properties"]
    intake = function(template, "hubspot_intake")["Properties"]
    assert "DeadLetterConfig" not in intake  # the queue's redrive, not async retries


def test_each_intake_function_reads_only_its_own_crm_secret(template: dict) -> None:
    secrets = {name: s for name, s in resources(template, "AWS::SecretsManager::Secret").items()}
    assert any(n.startswith("SalesforceJwtKey") for n in secrets)
    assert any(n.startswith("HubSpotAppSecret") for n in secrets)
    assert any(n.startswith("HubSpotPrivateAppToken") for n in secrets)

    def secret_grants(module: str) -> set[str]:
        role = function(template, module)["Properties"]["Role"]["Fn::GetAtt"][0]
        found = set()
        for policy in resources(template, "AWS::IAM::Policy").values():
            if {"Ref": role} in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if "secretsmanager:GetSecretValue" in statement["Action"]:
                        found.add(statement["Resource"]["Ref"].rstrip("0123456789ABCDEF"))
        return found

    assert secret_grants("salesforce_intake") == {"SalesforceJwtKey"}
    assert secret_grants("hubspot_webhook") == {"HubSpotAppSecret"}
    assert secret_grants("hubspot_intake") == {"HubSpotPrivateAppToken"}
    webhook = _policy_actions(template, function(template, "hubspot_webhook")["Properties"]["Role"]["Fn::GetAtt"][0])
    assert "sqs:SendMessage" in webhook and not any(a.startswith(("events:", "dynamodb:")) for a in webhook)
    Template.from_json(template).has_resource_properties("AWS::Lambda::Function", {
        "Handler": "handoff.handlers.hubspot_webhook.handler", "Timeout": 10,
        "Environment": {"Variables": Match.object_like({"HUBSPOT_QUEUE_URL": Match.any_value()})}})
