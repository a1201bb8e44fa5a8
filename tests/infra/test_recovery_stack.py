"""The recovery API in the template: its routes are IAM-authorized, it knows every dead-letter queue
with its source, and its grants name those queues, their sources and the asynchronous functions
only (no wildcard), so a redrive can touch nothing else."""

import json

from tests.infra.test_stack import resources, routes
from tests.security.test_template import policies

RECOVERY = "handoff.handlers.recovery_api.handler"


def _recovery(template: dict) -> dict:
    return next(f for f in resources(template, "AWS::Lambda::Function").values()
                if f["Properties"]["Handler"] == RECOVERY)


def _statements(template: dict, function: dict) -> list[dict]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [st for policy in policies(template).values()
            if {"Ref": role} in policy["Properties"]["Roles"] for st in policy["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _resources(statement: dict) -> list:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def test_dead_letter_routes_are_iam_authorized_on_the_recovery_function(template: dict) -> None:
    served = routes(template)
    for route in (("GET", "/dead-letters"), ("POST", "/dead-letters/{queue}/redrive")):
        assert served[route] == {"authorization": "AWS_IAM", "handler": RECOVERY}


def test_the_recovery_function_knows_every_dead_letter_queue_and_its_source(template: dict) -> None:
    config = _recovery(template)["Properties"]["Environment"]["Variables"]["REDRIVE_QUEUES"]
    text = json.dumps(config)
    queues = resources(template, "AWS::SQS::Queue")
    dead_letter_queues = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                          for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    functions = resources(template, "AWS::Lambda::Function")
    dead_letter_queues |= {f["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
                           for f in functions.values() if "DeadLetterConfig" in f["Properties"]}
    dead_letter_queues.add(next(q for q in queues if q.startswith("UndeliveredEvents")))
    assert all(f'"Ref": "{q}"' in text for q in dead_letter_queues)
    for name in ("ExceptionsDeadLetters", "UndeliveredEvents", "TrackPipelineFailed", "HubSpotWebhookDeadLetters"):
        assert f'\\"{name}\\"' in text or f'"{name}"' in text, name
    # Functions invoked asynchronously carry fixed names: their dead letters are re-invoked by name.
    for function in functions.values():
        if "DeadLetterConfig" in function["Properties"]:
            assert function["Properties"]["FunctionName"].endswith("-ClosedWonHandoff")


def test_the_recovery_grants_name_each_queue_and_function(template: dict) -> None:
    statements = _statements(template, _recovery(template))
    sqs = [st for st in statements if any(a.startswith("sqs:") for a in _actions(st))]
    assert sqs and all("*" not in json.dumps(_resources(st)) for st in sqs)
    queues = resources(template, "AWS::SQS::Queue")
    by_action: dict[str, set[str]] = {}
    for statement in sqs:
        for action in _actions(statement):
            by_action.setdefault(action, set()).update(r["Fn::GetAtt"][0] for r in _resources(statement))
    dead_letters = {q for q in queues if "DeadLetters" in q or "Failed" in q or q.startswith("UndeliveredEvents")}
    assert by_action["sqs:DeleteMessage"] == by_action["sqs:ReceiveMessage"] == dead_letters
    # Only dead-letter queues whose source is a queue are moved by SQS; the sources take messages.
    assert by_action["sqs:StartMessageMoveTask"] == {q for q in dead_letters if "DeadLetters" in q}
    assert by_action["sqs:SendMessage"] == {q for q in queues if q.startswith(("ExceptionsQueue", "HubSpotWebhookQueue"))}
    invoke = [st for st in statements if "lambda:InvokeFunction" in _actions(st)]
    named = {f["Properties"]["FunctionName"] for f in resources(template, "AWS::Lambda::Function").values()
             if "DeadLetterConfig" in f["Properties"]}
    invoked = {json.dumps(r).rsplit(":", 1)[-1].strip('"]}') for st in invoke for r in _resources(st)}
    assert invoked == named
    starts = [st for st in statements if "states:StartExecution" in _actions(st)]
    assert len(starts) == 1 and ":stateMachine:ClosedWonHandoff-handoff" in json.dumps(starts[0]["Resource"])
    assert not {a for st in statements for a in _actions(st) if a.startswith("ses:")}
    # DynamoDB: only the work items table, where a redrive resolves the items of what it sent back.
    tables = {r["Fn::GetAtt"][0] for st in statements if any(a.startswith("dynamodb:") for a in _actions(st))
              for r in _resources(st) if isinstance(r, dict) and "Fn::GetAtt" in r}
    assert tables and all(t.startswith("WorkItemsTable") for t in tables), tables


def test_the_bus_archives_every_crm_event_for_the_retention_in_context(template: dict) -> None:
    from infra.recovery import DEFAULT_ARCHIVE_RETENTION_DAYS

    [archive] = resources(template, "AWS::Events::Archive").values()
    props = archive["Properties"]
    bus = next(k for k, b in resources(template, "AWS::Events::EventBus").items() if "EventSourceName" not in b["Properties"])
    assert props["SourceArn"] == {"Fn::GetAtt": [bus, "Arn"]}
    assert props["EventPattern"]["source"] == [{"prefix": "crm."}]
    assert props["RetentionDays"] == DEFAULT_ARCHIVE_RETENTION_DAYS == 30


def test_archive_retention_comes_from_context_as_whole_days() -> None:
    import pytest

    from infra.configuration import ContextError
    from infra.recovery import archive_retention_days

    assert archive_retention_days(None) == 30 and archive_retention_days(7) == 7 and archive_retention_days("90") == 90
    for bad in (0, -3, "1.5", "a week", True, 2.5):
        with pytest.raises(ContextError, match="archiveRetentionDays"):
            archive_retention_days(bad)


def test_replays_are_started_on_the_archive_only_and_followed_by_the_stacks_prefix(template: dict) -> None:
    function = _recovery(template)
    served = routes(template)
    for route in (("POST", "/replays"), ("GET", "/replays/{replayName}")):
        assert served[route] == {"authorization": "AWS_IAM", "handler": RECOVERY}
    archive = next(iter(resources(template, "AWS::Events::Archive")))
    events = [st for st in _statements(template, function) if any(a.startswith("events:") for a in _actions(st))]
    by_action = {a: _resources(st) for st in events for a in _actions(st)}
    assert by_action["events:StartReplay"] == by_action["events:DescribeArchive"] == [{"Fn::GetAtt": [archive, "Arn"]}]
    assert json.dumps(by_action["events:DescribeReplay"]).endswith(':replay/ClosedWonHandoff-*"]]}]')
    env = function["Properties"]["Environment"]["Variables"]
    assert env["ARCHIVE_ARN"] == {"Fn::GetAtt": [archive, "Arn"]} and env["REPLAY_NAME_PREFIX"] == "ClosedWonHandoff"
