"""The redrive's adapters against moto: a queue's dead letters moved back by hand (receive, send,
delete only after the send), SQS's own move task asked for the right queue, re-delivery to a
state machine (twice starts once), a queue target and the bus; a message that cannot go stays."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from handoff.adapters.event_bus import EventBus
from handoff.adapters.redelivery import RedeliveryRefused, TargetRedelivery
from handoff.adapters.sqs_redrive import MoveTaskMover, ReceiveSendMover, SqsDeadLetters
from handoff.domain.redrive import DeadLetterQueue
from handoff.logic.redrive_dead_letters import redrive

REGION = "eu-west-1"


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


def queue(aws: Any, name: str) -> str:
    return aws("sqs").create_queue(QueueName=name)["QueueUrl"]


def bodies(aws: Any, url: str) -> list[str]:
    messages = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                          MessageAttributeNames=["All"]).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_dead_letters_go_back_to_their_queue_with_their_attributes_and_leave_the_dlq(aws: Any) -> None:
    source, dlq = queue(aws, "exceptions"), queue(aws, "exceptions-dlq")
    for n in range(12):
        aws("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}),
                                MessageAttributes={"status": {"DataType": "String", "StringValue": "BLOCKED"}})
    dead_letters = SqsDeadLetters(aws("sqs"))
    config = DeadLetterQueue("ExceptionsDeadLetters", dlq, "queue", source)

    plan = redrive(config, dry_run=True, dead_letters=dead_letters, mover=ReceiveSendMover(aws("sqs"), dead_letters),
                   redelivery=None)  # type: ignore[arg-type]
    assert plan.count == 12 and len(plan.messages) == 12 and dead_letters.count(config) == 12

    report = redrive(config, dry_run=False, dead_letters=dead_letters,
                     mover=ReceiveSendMover(aws("sqs"), dead_letters), redelivery=None)  # type: ignore[arg-type]
    assert len(report.redriven) == 12 and report.failed == [] and report.remaining == 0
    moved = aws("sqs").receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert {m["MessageAttributes"]["status"]["StringValue"] for m in moved["Messages"]} == {"BLOCKED"}
    assert dead_letters.count(config) == 0


def test_a_failed_send_deletes_nothing(aws: Any) -> None:
    dlq = queue(aws, "dlq")
    aws("sqs").send_message(QueueUrl=dlq, MessageBody="kept")
    dead_letters = SqsDeadLetters(aws("sqs"))
    gone = DeadLetterQueue("Gone", dlq, "queue", f"https://sqs.{REGION}.amazonaws.com/123456789012/deleted")
    moved = ReceiveSendMover(aws("sqs"), dead_letters).move(gone, 10)
    assert moved.moved == [] and len(moved.failed) == 1 and "NonExistentQueue" in moved.failed[0]["error"]
    assert dead_letters.count(gone) == 1


def test_sqs_moves_a_queues_dead_letters_back_to_their_source_itself() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    config = DeadLetterQueue("ExceptionsDeadLetters", f"https://sqs.{REGION}.amazonaws.com/123456789012/dlq",
                             "queue", f"https://sqs.{REGION}.amazonaws.com/123456789012/src")
    with Stubber(sqs) as stub:  # moto 5.2.5 has no StartMessageMoveTask: the request is what is checked
        stub.add_response("start_message_move_task", {"TaskHandle": "handle-1"},
                          {"SourceArn": f"arn:aws:sqs:{REGION}:123456789012:dlq"})
        moved = MoveTaskMover(sqs).move(config, 10)
    assert (moved.how, moved.task_handle) == ("StartMessageMoveTask", "handle-1")


def test_a_rule_targets_dead_letter_starts_its_execution_once(aws: Any) -> None:
    role = "arn:aws:iam::123456789012:role/sfn"
    machine = aws("stepfunctions").create_state_machine(
        name="handoff", roleArn=role, definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                                              "End": True}}}))
    dlq = queue(aws, "undelivered")
    event = {"id": "ev-1", "source": "crm.hubspot", "detail-type": "Opportunity Closed Won", "detail": {"eventId": "x"}}
    for _ in range(2):  # the same message twice: a redrive whose delete was lost, run again
        aws("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps(event), MessageAttributes={
            "TARGET_ARN": {"DataType": "String", "StringValue": machine["stateMachineArn"]}})
    dead_letters = SqsDeadLetters(aws("sqs"))
    config = DeadLetterQueue("UndeliveredEvents", dlq, "targets", "")
    redelivery = TargetRedelivery(aws, EventBus(aws("events"), "default"))
    [first, second] = dead_letters.peek(config, 10)
    second = type(second)(first.message_id, second.body, second.attributes, second.receipt_handle)
    assert redelivery.redeliver(config, first) == "StartExecution handoff"
    # Step Functions answers a second start of the name with the first execution (still running, same
    # input) or ExecutionAlreadyExists (closed): either way nothing starts twice.
    assert redelivery.redeliver(config, second).startswith("StartExecution handoff")
    executions = aws("stepfunctions").list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    assert len(executions) == 1 and json.loads(aws("stepfunctions").describe_execution(
        executionArn=executions[0]["executionArn"])["input"]) == event


def test_a_queue_target_gets_the_message_and_an_untargeted_event_goes_back_on_the_bus(aws: Any) -> None:
    target, dlq = queue(aws, "exceptions"), queue(aws, "undelivered")
    archive = queue(aws, "bus-copy")
    events = aws("events")
    events.put_rule(Name="all", EventPattern=json.dumps({"source": [{"prefix": "crm."}]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:123456789012:bus-copy"}])
    event = {"source": "crm.hubspot", "detail-type": "Opportunity Closed Won", "detail": {"eventId": "e"}}
    aws("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps(event), MessageAttributes={"TARGET_ARN": {
        "DataType": "String", "StringValue": f"arn:aws:sqs:{REGION}:123456789012:exceptions"}})
    aws("sqs").send_message(QueueUrl=dlq, MessageBody=json.dumps(event))
    aws("sqs").send_message(QueueUrl=dlq, MessageBody="[1, 2]")
    dead_letters = SqsDeadLetters(aws("sqs"))
    config = DeadLetterQueue("UndeliveredEvents", dlq, "targets", "")
    report = redrive(config, dry_run=False, dead_letters=dead_letters, mover=None,  # type: ignore[arg-type]
                     redelivery=TargetRedelivery(aws, EventBus(events, "default")))
    assert sorted(r["to"] for r in report.redriven) == ["PutEvents default", "SendMessage exceptions"]
    assert len(report.failed) == 1 and "names no target" in report.failed[0]["error"]
    assert bodies(aws, target) == [json.dumps(event)]
    assert [json.loads(b)["detail"] for b in bodies(aws, archive)] == [{"eventId": "e"}]
    assert bodies(aws, dlq) == ["[1, 2]"]  # what could not go stays


def test_an_untargeted_message_that_is_no_event_is_refused() -> None:
    config = DeadLetterQueue("UndeliveredEvents", "https://sqs.eu-west-1.amazonaws.com/1/q", "targets", "")
    from handoff.domain.redrive import DeadLetter

    with pytest.raises(RedeliveryRefused):
        TargetRedelivery(lambda _s: None, None).redeliver(config, DeadLetter("m", "{}", {}))  # type: ignore[arg-type]
