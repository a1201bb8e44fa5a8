"""Dead-letter queues redriven through the operators' recovery API (GET /dead-letters,
POST /dead-letters/{queue}/redrive) on the embedded runtime, each kind of source: a rule target's
dead letter (a closed-won event the state machine already took) restarts the workflow and is ignored
as a duplicate; a function's dead letter (a stage change already applied) is invoked again and
changes nothing; a queue's dead letter (an exceptions message already taken) goes back to its queue
and makes no second work item. A dry run lists and changes nothing; a second redrive finds nothing."""

import json
from datetime import UTC, datetime

import pytest

from handoff.adapters.handoff_store import handoff_id_for
from handoff.adapters.ledger.inspector import LedgerInspector
from handoff.contracts.recovery import DeadLetterQueues, RedriveReport
from handoff.domain import work_items as wi
from local.runtime import EmbeddedRuntime
from tests.support.events import own


def delivered(runtime: EmbeddedRuntime, event: dict) -> dict:
    """The envelope EventBridge delivered for `event`: the input of the execution it started."""
    sfn = runtime.client("stepfunctions")
    for execution in runtime.executions():
        body = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        if body.get("detail", {}).get("eventId") == event["detail"]["eventId"]:
            return body
    raise LookupError(event["detail"]["eventId"])


def delivered_shape(event: dict) -> dict:
    """The envelope EventBridge delivers to a target for `event`."""
    return {"version": "0", "id": f"{event['detail']['eventId']}-envelope", "detail-type": event["detail-type"],
            "source": event["source"], "account": "123456789012", "time": "2026-12-02T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": event["detail"]}


def dead_letter(runtime: EmbeddedRuntime, queue: str, body: dict, **attributes: str) -> str:
    url = runtime.physical(queue, "AWS::SQS::Queue")
    return runtime.client("sqs").send_message(
        QueueUrl=url, MessageBody=json.dumps(body),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})["MessageId"]


def ledger_counts(runtime: EmbeddedRuntime) -> tuple[int, ...]:
    ledger = LedgerInspector(runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE")))
    return (len(ledger.customers()), len(ledger.projects()), len(ledger.billing_schedules()),
            len(ledger.staffing_requests()), len(ledger.requisitions()), len(ledger.crm_writebacks()))


def counts(runtime: EmbeddedRuntime, queue: str) -> int:
    status, listed = runtime.dead_letters()
    assert status == 200, listed
    return next(q["count"] for q in listed["queues"] if q["queue"] == queue)


def test_every_dead_letter_queue_is_listed_with_its_source(runtime: EmbeddedRuntime) -> None:
    status, listed = runtime.dead_letters()
    assert status == 200 and DeadLetterQueues.model_validate(listed)  # as the OpenAPI document says
    kinds = {q["queue"]: q["source"] for q in listed["queues"]}
    assert kinds["ExceptionsDeadLetters"] == "queue" and kinds["HubSpotWebhookDeadLetters"] == "queue"
    assert kinds["UndeliveredEvents"] == "targets"
    assert kinds["TrackPipelineFailed"] == kinds["ApprovalSweeperFailed"] == "function"
    assert all(isinstance(q["count"], int) for q in listed["queues"])


def test_a_rule_targets_dead_letter_of_a_processed_event_restarts_nothing_twice(runtime: EmbeddedRuntime) -> None:
    event = own("closed-won", "us-fixed-fee-advisory", "rd1")
    runtime.publish([event])
    runtime.decide_all("approve")
    handoff_id = handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])
    assert runtime.store().record(handoff_id).status == "ACTIVATED"
    mails, before = len(runtime.emails()), ledger_counts(runtime)
    machine = runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine")
    message_id = dead_letter(runtime, "UndeliveredEvents", delivered(runtime, event), TARGET_ARN=machine,
                             ERROR_MESSAGE="Throttled by Step Functions")

    status, plan = runtime.redrive("UndeliveredEvents", dry_run=True)
    assert status == 200 and plan["dryRun"] is True and plan["count"] == 1 and plan["messageIds"] == [message_id]
    [described] = plan["messages"]
    assert RedriveReport.model_validate(plan).dry_run is True
    assert described["eventId"] == "rd1-us-fixed-fee-advisory-1" and described["target"] == machine
    assert described["error"] == "Throttled by Step Functions" and "Opportunity Closed Won" in described["summary"]
    assert counts(runtime, "UndeliveredEvents") == 1  # the dry run changed nothing
    executions = len(runtime.executions())

    status, done = runtime.redrive("UndeliveredEvents")
    assert status == 202 and done["redriven"] == 1 and done["failed"] == [], done
    assert done["messages"][0]["messageId"] == message_id and done["messages"][0]["to"].startswith("StartExecution")
    assert RedriveReport.model_validate(done).redriven == 1
    runtime.wait_settled()
    assert counts(runtime, "UndeliveredEvents") == 0
    [redriven] = [e for e in runtime.executions() if e["name"].startswith("redrive-")]
    assert len(runtime.executions()) == executions + 1 and redriven["status"] == "SUCCEEDED"
    assert runtime.store().record(handoff_id).status == "ACTIVATED"
    assert len(runtime.emails()) == mails and ledger_counts(runtime) == before

    status, again = runtime.redrive("UndeliveredEvents")
    assert status == 202 and again["redriven"] == 0 and again["count"] == 0


def test_a_functions_dead_letter_is_invoked_again_and_applies_nothing_twice(runtime: EmbeddedRuntime) -> None:
    event = own("stage-changed", "emea-erp-negotiation", "rd2")
    runtime.publish([event])
    runtime.wait_settled()
    ledger = LedgerInspector(runtime.session.resource("dynamodb").Table(runtime.env("LEDGER_TABLE")))
    requests = ledger.staffing_requests(event["detail"]["opportunity"]["id"])
    assert requests and {r["status"] for r in requests} == {"SOFT"}
    envelope = {"version": "0", "id": "9f6d1a56-0000-4000-8000-000000000001", "detail-type": event["detail-type"],
                "source": event["source"], "account": "123456789012", "time": "2026-12-02T00:00:00Z",
                "region": "us-east-1", "resources": [], "detail": event["detail"]}
    dead_letter(runtime, "TrackPipelineFailed", envelope, ErrorCode="200", ErrorMessage="Task timed out")

    status, done = runtime.redrive("TrackPipelineFailed")
    assert status == 202 and done["redriven"] == 1, done
    assert done["messages"][0]["to"] == "Invoke TrackPipeline-ClosedWonHandoff (asynchronous)"
    runtime.wait_settled()
    assert counts(runtime, "TrackPipelineFailed") == 0
    assert ledger.staffing_requests(event["detail"]["opportunity"]["id"]) == requests


def test_a_queues_dead_letter_goes_back_to_its_queue_and_makes_no_second_work_item(runtime: EmbeddedRuntime) -> None:
    event = own("needs-fix", "missing-tax-id", "rd3")
    runtime.publish([event])
    runtime.wait_settled()
    handoff_id = handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])
    [item] = runtime.work_items().for_handoff(handoff_id)
    copy_of_taken = {"handoffId": handoff_id, "status": "BLOCKED", "fixRound": 0, "exceptions": [
        {"code": item.code, "severity": "BLOCKING", "step": "ValidateReadiness", "field": item.field,
         "message": item.message}]}
    dead_letter(runtime, "ExceptionsDeadLetters", copy_of_taken, status="BLOCKED")

    status, done = runtime.redrive("ExceptionsDeadLetters")
    assert status == 202 and done["redriven"] == 1 and "SendMessage" in done["method"], done
    assert done["messages"][0]["to"].startswith("queue ExceptionsQueue")
    runtime.wait_settled()
    assert counts(runtime, "ExceptionsDeadLetters") == 0 and runtime.queue_messages("ExceptionsQueue") == []
    assert [(i.code, len(i.history)) for i in runtime.work_items().for_handoff(handoff_id)] == [(item.code, 1)]


@pytest.mark.parametrize("queue", ["NoSuchQueue", "UndeliveredEvents%2F.."])
def test_an_unknown_queue_is_refused_naming_it(runtime: EmbeddedRuntime, queue: str) -> None:
    status, body = runtime.redrive(queue, dry_run=True)
    assert status == 404 and body["problems"][0]["field"] == "queue" and "UndeliveredEvents" in body["message"]


@pytest.mark.parametrize("body, query", [({"dryRun": "perhaps"}, ""), ({}, "?dryRun=perhaps"), ({"dryRun": 1}, ""),
                                         ({"dryRun": None}, ""), ({"dryRun": "true "}, "?dryRun=nope")])
def test_a_dry_run_that_is_neither_yes_nor_no_is_refused_and_moves_nothing(
        runtime: EmbeddedRuntime, body: dict, query: str) -> None:
    message_id = dead_letter(runtime, "UndeliveredEvents", delivered_shape(own("closed-won", "us-fixed-fee-advisory",
                                                                               "rd-dry")))
    status, answer = runtime.api_call("POST", f"/dead-letters/UndeliveredEvents/redrive{query}", body)
    if body.get("dryRun") == "true ":  # the body's answer wins over the query string's
        assert status == 200 and answer["dryRun"] is True and message_id in answer["messageIds"], answer
    else:
        assert status == 422 and answer["problems"] == [{"field": "dryRun", "message": answer["message"]}], answer
        assert answer["message"].startswith("dryRun must be true or false")
    status, plan = runtime.redrive("UndeliveredEvents", dry_run=True)  # refused or dry: nothing moved
    assert status == 200 and message_id in plan["messageIds"], plan


def test_an_event_the_workflow_never_got_is_dead_lettered_then_redriven_and_activates(runtime: EmbeddedRuntime) -> None:
    event = own("closed-won", "apac-time-and-materials", "rd4")
    # Step Functions refuses every start for this event: EventBridge's 9 attempts (5 SDK tries each) fail.
    runtime.faults.inject("sfn", "StartExecution", "ThrottlingException", times=45, matching="rd4-apac")
    runtime.publish([event])
    runtime.wait_settled()
    handoff_id = handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])
    assert handoff_id not in runtime.store().handoff_ids()  # the workflow never saw it
    left = [f for f in runtime.faults.faults if f.operation == "StartExecution"]
    runtime.faults.clear()  # Step Functions takes executions again
    status, plan = runtime.redrive("UndeliveredEvents", dry_run=True)
    [described] = [m for m in plan["messages"] if m.get("eventId") == event["detail"]["eventId"]]
    machine = runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine")
    assert described["target"] == machine and "ThrottlingException" in described["error"]

    status, done = runtime.redrive("UndeliveredEvents")
    assert status == 202 and done["redriven"] >= 1 and done["failed"] == [], (done, left)
    runtime.decide_all("approve")
    record = runtime.store().record(handoff_id)
    assert record.status == "ACTIVATED" and record.event_id == event["detail"]["eventId"]


def test_a_redrive_resolves_the_work_items_of_the_messages_it_sent_back(runtime: EmbeddedRuntime) -> None:
    event = own("closed-won", "us-fixed-fee-advisory", "rd5")
    machine = runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine")
    message_id = dead_letter(runtime, "UndeliveredEvents", delivered_shape(event),
                             TARGET_ARN=machine, ERROR_MESSAGE="Throttled by Step Functions")
    runtime.send_digests(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))  # the digest records dead letters as items
    item_id = wi.dead_letter_item_id("UndeliveredEvents", message_id)
    assert runtime.work_items().item(item_id).state == "open"

    status, plan = runtime.redrive("UndeliveredEvents", dry_run=True)
    assert status == 200 and "resolvedItems" not in plan and runtime.work_items().item(item_id).state == "open"
    status, done = runtime.redrive("UndeliveredEvents")
    assert status == 202 and item_id in done["resolvedItems"], done
    assert RedriveReport.model_validate(done).resolved_items == done["resolvedItems"]
    item = runtime.work_items().item(item_id)
    assert item.state == "resolved" and item.resolution.startswith("fixed: the message was redriven to StartExecution")
    assert item.history[-1].action == "resolved" and item.history[-1].actor != "intake"
    runtime.decide_all("approve")
    handoff_id = handoff_id_for(event["source"], event["detail"]["opportunity"]["id"])
    assert runtime.store().record(handoff_id).status == "ACTIVATED"


def test_a_queue_emptied_outside_the_api_closes_its_items_at_the_next_look(runtime: EmbeddedRuntime) -> None:
    # SQS's own move task (the AWS path for queue sources) names no messages: the items close once
    # the digest (or the console's queue page) finds the queue empty.
    message_id = dead_letter(runtime, "ApprovalSweeperFailed", {"source": "aws.events", "id": "rd6"},
                             ErrorMessage="Task timed out")
    runtime.send_digests(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    item_id = wi.dead_letter_item_id("ApprovalSweeperFailed", message_id)
    assert runtime.work_items().item(item_id).state == "open"
    runtime.send_digests(datetime(2026, 12, 4, 7, 0, tzinfo=UTC))
    assert runtime.work_items().item(item_id).state == "open"  # still there: still open

    sqs, url = runtime.client("sqs"), runtime.physical("ApprovalSweeperFailed", "AWS::SQS::Queue")
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    runtime.send_digests(datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
    item = runtime.work_items().item(item_id)
    assert item.state == "resolved" and "ApprovalSweeperFailed no longer holds" in item.resolution
