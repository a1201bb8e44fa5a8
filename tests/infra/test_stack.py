"""CDK assertions on the synthesized template: what `cdk deploy` would create."""

import json
import re
from pathlib import Path

from aws_cdk.assertions import Match, Template

from infra.retry_policies import expand
from infra.wiring import FUNCTIONS, INTEGRATION_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def resources(template: dict, cfn_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type}


def bus_rules(template: dict) -> dict[str, dict]:
    """Rules on the handoff bus (not the Salesforce partner bus) with an event pattern, by detail-type."""
    bus = {"Ref": next(k for k, b in resources(template, "AWS::Events::EventBus").items()
                       if "EventSourceName" not in b["Properties"])}
    rules = [r["Properties"] for r in resources(template, "AWS::Events::Rule").values()
             if "EventPattern" in r["Properties"] and r["Properties"].get("EventBusName") == bus]
    return {detail_type: r for r in rules for detail_type in r["EventPattern"]["detail-type"]}


def function_logical_id(template: dict, module: str) -> str:
    return next(k for k, f in resources(template, "AWS::Lambda::Function").items()
                if f["Properties"]["Handler"] == f"handoff.handlers.{module}.handler")


def test_rule_starts_the_workflow_for_crm_closed_won_events_with_retry_and_dead_letters(template: dict) -> None:
    rules = bus_rules(template)
    # The product's own Handoff Activated goes to the work queue (tests/infra/test_work_queue_stack.py).
    assert sorted(rules) == ["Handoff Activated", "Opportunity Closed Won", "Opportunity Stage Changed"]
    props = rules["Opportunity Closed Won"]
    assert props["EventPattern"] == {"detail-type": ["Opportunity Closed Won"], "source": [{"prefix": "crm."}]}
    target = props["Targets"][0]
    machine = next(iter(resources(template, "AWS::StepFunctions::StateMachine")))
    assert target["Arn"] == {"Ref": machine}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "DeadLetterConfig" in target
    assert props["EventBusName"] == {"Ref": next(iter(resources(template, "AWS::Events::EventBus")))}


def test_stage_changed_events_reach_the_pipeline_function_with_retry_and_dead_letters(template: dict) -> None:
    rules = bus_rules(template)
    closed_won, props = rules["Opportunity Closed Won"], rules["Opportunity Stage Changed"]
    assert props["EventPattern"] == {"detail-type": ["Opportunity Stage Changed"], "source": [{"prefix": "crm."}]}
    assert props["EventBusName"] == closed_won["EventBusName"]
    [target] = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_logical_id(template, "track_pipeline"), "Arn"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 8}
    assert target["DeadLetterConfig"] == closed_won["Targets"][0]["DeadLetterConfig"]
    # EventBridge may invoke it; the function itself retries twice, then keeps the event in its own queue.
    permissions = [p["Properties"] for p in resources(template, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "events.amazonaws.com"]
    assert any(p["FunctionName"] == {"Fn::GetAtt": [function_logical_id(template, "track_pipeline"), "Arn"]}
               for p in permissions)
    function = resources(template, "AWS::Lambda::Function")[function_logical_id(template, "track_pipeline")]
    assert "DeadLetterConfig" in function["Properties"]


def test_functions_calling_systems_of_record_outlast_the_connectors_worst_case(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    integration = {"sync_customer", "create_project", "setup_billing", "request_staffing", "raise_requisitions",
                   "activate_handoff", "track_pipeline"}
    for module in integration:
        assert functions[function_logical_id(template, module)]["Properties"]["Timeout"] == INTEGRATION_TIMEOUT_SECONDS
    # 3 attempts x (8 s connect + 8 s read) + 2 backoffs of 8 s + a 16 s token request (connector defaults).
    assert INTEGRATION_TIMEOUT_SECONDS > 3 * 16 + 2 * 8 + 16
    assert functions[function_logical_id(template, "check_readiness")]["Properties"]["Timeout"] == 30


def test_state_machine_definition_is_the_file_with_every_function_substituted(template: dict) -> None:
    machine = next(iter(resources(template, "AWS::StepFunctions::StateMachine").values()))["Properties"]
    definition = machine["DefinitionString"]
    text = definition if isinstance(definition, str) else "".join(
        p if isinstance(p, str) else "" for p in definition["Fn::Join"][1])
    on_disk = (ROOT / "statemachines" / "handoff.asl.json").read_text()
    assert json.loads(text) == expand(json.loads(on_disk))
    placeholders = set(re.findall(r"\$\{(\w+)\}", on_disk))
    assert placeholders == set(machine["DefinitionSubstitutions"])
    assert placeholders == {f"{f.logical_name}FunctionArn" for f in FUNCTIONS if f.in_workflow}
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"


def test_one_lambda_per_step_with_powertools_and_one_meaning_per_variable(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values())
    assert handlers == sorted(f"handoff.handlers.{s.module}.handler" for s in FUNCTIONS)
    seen: dict[str, str] = {}
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"].startswith("python3.")
        assert props["TracingConfig"] == {"Mode": "Active"}
        for name, value in props["Environment"]["Variables"].items():
            encoded = json.dumps(value, sort_keys=True)
            assert seen.setdefault(name, encoded) == encoded, f"{name} means two things"
    assert seen["POWERTOOLS_SERVICE_NAME"] == '"closed-won-handoff"'


def test_handoff_table_is_on_demand_recoverable_and_encrypted(template: dict) -> None:
    Template.from_json(template).has_resource_properties("AWS::DynamoDB::Table", {
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "GlobalSecondaryIndexes": Match.array_with([Match.object_like({"IndexName": "gsi1"})]),
    })
    for table in resources(template, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_queues_are_encrypted_and_asynchronous_functions_have_dead_letter_queues(template: dict) -> None:
    for queue in resources(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    functions = resources(template, "AWS::Lambda::Function")
    sweeper = next(f for f in functions.values() if f["Properties"]["Handler"].endswith("approval_sweeper.handler"))
    assert "DeadLetterConfig" in sweeper["Properties"]


def test_every_function_log_group_has_retention(template: dict) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    assert groups and all(g["Properties"].get("RetentionInDays") == 30 for g in groups.values())
    for fn in resources(template, "AWS::Lambda::Function").values():
        assert "LoggingConfig" in fn["Properties"]


def _policy_actions(template: dict, role_logical_id: str) -> set[str]:
    actions: set[str] = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    return actions


def test_grants_are_least_privilege_per_function(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")

    def actions_of(module: str) -> set[str]:
        fn = next(f for f in functions.values() if f["Properties"]["Handler"] == f"handoff.handlers.{module}.handler")
        return _policy_actions(template, fn["Properties"]["Role"]["Fn::GetAtt"][0])

    assert "states:SendTaskSuccess" in actions_of("approval_api")
    assert "states:SendTaskSuccess" not in actions_of("setup_billing")
    assert "ses:SendEmail" in actions_of("request_approval") or "ses:SendRawEmail" in actions_of("request_approval")
    assert not any(a.startswith("ses:") for a in actions_of("setup_billing"))
    assert "events:PutEvents" in actions_of("activate_handoff")
    assert "events:PutEvents" not in actions_of("check_readiness")
    assert not any(a.startswith("s3:") for a in actions_of("sync_customer"))
    assert "secretsmanager:GetSecretValue" in actions_of("approval_api")
    assert "secretsmanager:GetSecretValue" not in actions_of("close_handoff")
    pipeline = actions_of("track_pipeline")
    assert {"secretsmanager:GetSecretValue", "s3:PutObject", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= pipeline
    assert not any(a.startswith(("ses:", "states:", "events:")) for a in pipeline)
    assert {a for a in pipeline if a.startswith("sqs:")} == {"sqs:SendMessage"}  # its own dead-letter queue


def test_document_grants_are_per_prefix(template: dict) -> None:
    """Quarantined events hold personal data: only the launch-packet step may read documents back,
    and only its own prefix; the others may only put under quarantine/."""
    def s3_grants(module: str) -> set[tuple[str, str]]:
        role = resources(template, "AWS::Lambda::Function")[function_logical_id(template, module)]["Properties"]["Role"]
        found = set()
        for policy in resources(template, "AWS::IAM::Policy").values():
            if role["Fn::GetAtt"][0] not in json.dumps(policy["Properties"]["Roles"]):
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    if action.startswith("s3:"):
                        found.add((action, json.dumps(statement["Resource"]).split("/", 1)[-1].rstrip('"]}')))
        return found

    for module in ("accept_event", "track_pipeline", "handoff_api"):
        assert s3_grants(module) == {("s3:PutObject", "quarantine/*")}, module
    # The packet step only puts; the packet link's route presigns (a presigned URL carries its signer's rights).
    assert s3_grants("assemble_launch_packet") == {("s3:PutObject", "launch-packets/*")}
    assert s3_grants("launch_packet_api") == {("s3:GetObject", "launch-packets/*")}


def routes(template: dict) -> dict[tuple[str, str], dict]:
    """(method, path) -> {authorization, handler} for every API Gateway method."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")

    def path_of(resource_id: dict) -> str:
        if "Fn::GetAtt" in resource_id:
            return ""
        props = api_resources[resource_id["Ref"]]["Properties"]
        return path_of(props["ParentId"]) + "/" + props["PathPart"]

    functions = resources(template, "AWS::Lambda::Function")
    found = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        uri = json.dumps(props["Integration"]["Uri"])
        handler = next(f["Properties"]["Handler"] for name, f in functions.items() if f'"{name}"' in uri)
        found[(props["HttpMethod"], path_of(props["ResourceId"]))] = {
            "authorization": props["AuthorizationType"], "handler": handler}
    return found


def test_api_routes_approvals_by_signed_link_and_handoffs_by_iam(template: dict) -> None:
    approval = "handoff.handlers.approval_api.handler"
    operators = "handoff.handlers.handoff_api.handler"
    console = "handoff.handlers.console.handler"  # its own API: tests/infra/test_console_stack.py
    assert {k: v for k, v in routes(template).items() if v["handler"] != console} == {
        ("GET", "/approvals/{approvalId}"): {"authorization": "NONE", "handler": approval},
        ("POST", "/approvals/{approvalId}"): {"authorization": "NONE", "handler": approval},
        ("GET", "/handoffs"): {"authorization": "AWS_IAM", "handler": operators},
        ("GET", "/handoffs/{handoffId}"): {"authorization": "AWS_IAM", "handler": operators},
        ("POST", "/handoffs/{handoffId}/resubmit"): {"authorization": "AWS_IAM", "handler": operators},
        ("GET", "/launch-packets/{handoffId}"): {"authorization": "NONE",
                                                 "handler": "handoff.handlers.launch_packet_api.handler"},
        ("POST", "/handoffs/{handoffId}/retry"): {"authorization": "AWS_IAM", "handler": operators},
        ("POST", "/quarantine/requeue"): {"authorization": "AWS_IAM", "handler": "handoff.handlers.recovery_api.handler"},
        ("GET", "/dead-letters"): {"authorization": "AWS_IAM", "handler": "handoff.handlers.recovery_api.handler"},
        ("POST", "/dead-letters/{queue}/redrive"): {"authorization": "AWS_IAM",
                                                    "handler": "handoff.handlers.recovery_api.handler"},
        ("POST", "/replays"): {"authorization": "AWS_IAM", "handler": "handoff.handlers.recovery_api.handler"},
        ("GET", "/replays/{replayName}"): {"authorization": "AWS_IAM", "handler": "handoff.handlers.recovery_api.handler"},
        # HubSpot calls it without AWS credentials; the function verifies X-HubSpot-Signature-v3.
        ("POST", "/crm/hubspot/webhook"): {"authorization": "NONE", "handler": "handoff.handlers.hubspot_webhook.handler"},
    }
    stage = next(iter(resources(template, "AWS::ApiGateway::Stage").values()))["Properties"]
    assert "AccessLogSetting" in stage and stage["TracingEnabled"] is True
    # Operator calls are audited by IAM identity in the access log.
    assert "$context.identity.userArn" in stage["AccessLogSetting"]["Format"]


def test_handoff_api_puts_events_and_starts_only_the_handoff_workflow(template: dict) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    name, fn = next((n, f) for n, f in functions.items()
                    if f["Properties"]["Handler"] == "handoff.handlers.handoff_api.handler")
    actions = _policy_actions(template, fn["Properties"]["Role"]["Fn::GetAtt"][0])
    # Writes: a retry's conditional FAILED -> PROVISIONING with its timeline entry, then StartExecution.
    # (TransactWriteItems is authorized as the Put, Update and Delete it holds.)
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "events:PutEvents",
            "s3:PutObject", "states:StartExecution"} <= actions
    assert {a for a in actions if a.startswith("states:")} == {"states:StartExecution"}
    assert not {a for a in actions if a.startswith(("ses:", "secretsmanager:", "sqs:"))}
    machine = next(iter(resources(template, "AWS::StepFunctions::StateMachine")))
    start = [st for policy in resources(template, "AWS::IAM::Policy").values()
             if {"Ref": fn["Properties"]["Role"]["Fn::GetAtt"][0]} in policy["Properties"]["Roles"]
             for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "states:StartExecution"]
    machine_name = resources(template, "AWS::StepFunctions::StateMachine")[machine]["Properties"]["StateMachineName"]
    [arn] = [st["Resource"] for st in start]
    assert arn == fn["Properties"]["Environment"]["Variables"]["STATE_MACHINE_ARN"]
    assert json.dumps(arn).endswith(f':stateMachine:{machine_name}"]]}}')
    bus_statements = [
        st for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": fn["Properties"]["Role"]["Fn::GetAtt"][0]} in policy["Properties"]["Roles"]
        for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "events:PutEvents"
    ]
    bus = next(iter(resources(template, "AWS::Events::EventBus")))
    assert [st["Resource"] for st in bus_statements] == [{"Fn::GetAtt": [bus, "Arn"]}]
    # Synchronous behind API Gateway: no async dead-letter queue, and no API URL (that would be a cycle).
    props = functions[name]["Properties"]
    assert "DeadLetterConfig" not in props
    assert "APPROVAL_BASE_URL" not in props["Environment"]["Variables"]
