"""The recovery API in the template: its routes are IAM-authorized, it knows every dead-letter queue
with its source, and its grants name those queues, their sources and the asynchronous functions
only (no wildcard), so a redrive can touch nothing else."""

import json

from tests.infra.test_stack import resources, routes

RECOVERY = "handoff.handlers.recovery_api.handler"


def _recovery(template: dict) -> dict:
    return next(f for f in resources(template, "AWS::Lambda::Function").values()
                if f["Properties"]["Handler"] == RECOVERY)


def _statements(template: dict, function: dict) -> list[dict]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [st for policy in resources(template, "AWS::IAM::Policy").values()
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
            assert function["Properties"]["FunctionName"].startswith("ClosedWonHandoff-")


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
    assert not {a for st in statements for a in _actions(st) if a.startswith(("dynamodb:", "ses:"))}
