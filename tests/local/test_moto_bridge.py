"""Fail loudly when a moto upgrade moves what local/moto_bridge.py patches."""

import inspect

import moto
import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.responses import StepFunctionResponse

from local.moto_bridge import MOTO_VERSION, MotoBridge
from local.runtime import EmbeddedRuntime


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == MOTO_VERSION
    pinned = [line for line in open("requirements.txt") if line.startswith("moto")]
    assert pinned == [f"moto[all]=={MOTO_VERSION}\n"]


def test_patched_internals_still_have_the_shapes_we_replace() -> None:
    assert list(inspect.signature(LambdaSimpleBackend.invoke).parameters) == [
        "self", "function_name", "qualifier", "body", "headers", "response_headers"]
    assert list(inspect.signature(Rule.send_to_targets).parameters) == ["self", "original_event", "transform_input"]
    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]
    assert callable(DynamoHandler.call_action)
    # Still dropping the cause? Once moto passes it on, the send_task_failure patch can go.
    assert "send_task_failure(task_token, error=error)" in inspect.getsource(StepFunctionResponse.send_task_failure)
    # SQS event source mappings: every message passes Queue.add_message, and moto's own mappings
    # (which the provisioner never creates) would invoke through Docker from there.
    from moto.sqs.models import Queue

    assert list(inspect.signature(Queue.add_message).parameters) == ["self", "message"]
    assert "lambda_event_source_mappings" in inspect.getsource(Queue.add_message)


def test_install_refuses_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    bridge = MotoBridge(lambda *_: ({}, None), time_scale=0, start_execution=lambda *_: None,
                        dead_letter=lambda *_: None)
    with pytest.raises(RuntimeError, match="patches moto"):
        bridge.install()


def test_a_retried_lambda_error_is_seen_by_retry_and_catch_and_backoff_is_scaled(runtime: EmbeddedRuntime) -> None:
    # A corrupted deal makes the readiness step fail; Retry (Lambda.* only) does not match the
    # named error, Catch records the failure: the error type crossed the bridge.
    import json

    from tests.conftest import load_raw

    event = load_raw("closed-won", "us-fixed-fee-advisory")
    event["detail"]["opportunity"]["id"] = "bridge-failure-1"
    runtime.publish([event])
    runtime.wait_settled()
    record = next(r for r in runtime.records() if r.opportunity_id == "bridge-failure-1")
    assert record.status == "ACTIVATED"
    assert all(error is None for _fn, error in runtime.lambdas.invocations[-8:])
    assert runtime.bridge is not None
    runtime.bridge.sleep(30)  # a 30 s back-off sleeps 30 ms at the runtime's scale
    assert runtime.bridge.slept[-1] == pytest.approx(30 * runtime.time_scale)
    assert json.dumps(record.to_json_dict())


def test_sqs_event_source_mappings_are_delivered_in_batches_with_partial_failures(runtime: EmbeddedRuntime) -> None:
    """Lambda's SQS poller: what the function reports failed comes back (and dead-letters after
    maxReceiveCount), the rest is deleted; the template's mapping is the only source of truth."""
    (source,) = runtime.bridge.queue_sources.values()
    assert source.partial_failures and source.batch_size == 10 and source.visibility_timeout == 180
    calls: list[list[str]] = []
    original = runtime.bridge.invoker

    def invoker(function: str, event: dict) -> tuple[dict, str | None]:
        if function != source.function:
            return original(function, event)
        calls.append([r["body"] for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"] == "bad"]}, None

    runtime.bridge.invoker = invoker
    try:
        runtime.client("sqs").send_message_batch(QueueUrl=source.queue_url, Entries=[
            {"Id": "1", "MessageBody": "good"}, {"Id": "2", "MessageBody": "bad"}])
        runtime.wait_settled()
    finally:
        runtime.bridge.invoker = original
    assert "good" in calls[0]
    assert sum(body == "good" for batch in calls for body in batch) == 1
    assert sum(body == "bad" for batch in calls for body in batch) == 5  # the queue's maxReceiveCount
    assert runtime.queue_messages("ExceptionsQueue") == []
    assert "bad" in [m["Body"] for m in runtime.queue_messages("ExceptionsDeadLetters")]


def test_stream_records_reads_the_handoff_table_stream_in_order(runtime: EmbeddedRuntime) -> None:
    """moto's DynamoDB Streams behind botocore's account-id endpoints (local/moto_bridge.stream_records)."""
    from local.moto_bridge import stream_records

    table_id = next(lid for lid in runtime.resources.streams if lid.startswith("Handoffs"))
    table = runtime.session.resource("dynamodb").Table(runtime.resources.physical[table_id])
    table.put_item(Item={"pk": "HANDOFF#stream-check", "sk": "X", "v": 1})
    table.update_item(Key={"pk": "HANDOFF#stream-check", "sk": "X"}, UpdateExpression="SET v = :v",
                      ExpressionAttributeValues={":v": 2})
    mine = [r for r in stream_records(runtime.session, runtime.resources.streams[table_id])
            if r["dynamodb"]["Keys"]["pk"]["S"] == "HANDOFF#stream-check"]
    assert [r["eventName"] for r in mine] == ["INSERT", "MODIFY"]
    assert mine[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"} and mine[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
