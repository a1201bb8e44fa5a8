"""Fail loudly when a moto upgrade moves what local/moto_bridge.py patches."""

import inspect
import time

import moto
import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.responses import StepFunctionResponse

from local import moto_bridge
from local.moto_bridge import MOTO_VERSION, MotoBridge
from local.runtime import EmbeddedRuntime


def bare_bridge() -> MotoBridge:
    """A bridge with no runtime behind it: nothing to invoke, start or dead-letter."""
    return MotoBridge(lambda *_: ({}, None), time_scale=0, start_execution=lambda *_: None,
                      dead_letter=lambda *_: None)


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
    # A Retry re-runs _eval_execution, not _eval_body (where moto makes the task token).
    assert "update_task_token()" in inspect.getsource(StateTaskServiceCallback._eval_body)
    assert "self._eval_execution(frame)" in inspect.getsource(ExecutionState._evaluate_with_timeout)
    assert list(inspect.signature(BotocoreStubber.__call__).parameters) == ["self", "event_name", "request", "kwargs"]
    # Still dropping the cause? Once moto passes it on, the send_task_failure patch can go.
    assert "send_task_failure(task_token, error=error)" in inspect.getsource(StepFunctionResponse.send_task_failure)


def test_condition_placeholders_are_counted_per_thread_on_a_shared_builder() -> None:
    """Two threads on one DynamoDB resource (every function shares the process here): one resets the
    builder while the other is between the two halves of its key condition. Without the per-thread
    count the second half reuses #n0 and the request names pk and sk both #n0."""
    import threading

    from boto3.dynamodb.conditions import ConditionExpressionBuilder, Key

    # Still counting on the builder? (A boto3 upgrade that stops doing so makes this patch moot.)
    assert "self._name_count = 0" in inspect.getsource(ConditionExpressionBuilder.reset)
    builder = ConditionExpressionBuilder()
    first_half, other_done = threading.Event(), threading.Event()  # other_done: it has reset
    built: list = []

    def request() -> None:
        builder.reset()
        built.append(builder.build_expression(Key("pk").eq("HANDOFF#1"), is_key_condition=True))
        first_half.set()
        other_done.wait(5)
        built.append(builder.build_expression(Key("sk").begins_with("STEP#"), is_key_condition=True))

    def other() -> None:  # its request starts (reset) while the first is half built
        first_half.wait(5)
        builder.reset()
        other_done.set()

    bridge = bare_bridge()
    bridge.install()
    try:
        threads = [threading.Thread(target=request), threading.Thread(target=other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    finally:
        bridge.uninstall()
    names = [set(b.attribute_name_placeholders) for b in built]
    assert len(built) == 2 and names[0].isdisjoint(names[1]), names


def test_install_refuses_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    bridge = bare_bridge()
    with pytest.raises(RuntimeError, match="patches moto"):
        bridge.install()


def test_uninstall_puts_back_exactly_what_install_replaced() -> None:
    bridge = bare_bridge()
    bridge.install()
    patched, inherited = list(bridge._patched), moto_bridge._INHERITED
    try:
        assert len(patched) >= 19 and all(vars(owner)[name] is not was for owner, name, was in patched)
        assert "_eval_execution" in vars(StateTaskServiceCallback)  # a replacement of an inherited method
    finally:
        bridge.uninstall()
    restored = [vars(owner).get(name, inherited) is was for owner, name, was in patched]
    assert all(restored)
    assert "_eval_execution" not in vars(StateTaskServiceCallback)  # inherited again, not a copy
    assert LambdaSimpleBackend.invoke.__module__ == "moto.awslambda_simple.models"
    assert bridge._patched == []


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


def test_partner_event_bus_names_are_kept_whole_while_patched() -> None:
    """moto cuts bus names at their last '/', losing aws.partner/salesforce.com/<org>/<channel>; once
    it stops doing so, partner_event_bus_names can go."""
    from moto.events.models import EventsBackend

    from local.moto_bridge import partner_event_bus_names

    backend = EventsBackend.__new__(EventsBackend)
    partner = "aws.partner/salesforce.com/00D5e000000AbCdEAK/0YL5e000000AbCdGAA"
    undo = partner_event_bus_names()  # another module's runtime may have it installed already
    try:
        patched = EventsBackend._normalize_event_bus_arn
        assert patched.__wrapped__(backend, partner) == "0YL5e000000AbCdGAA"  # moto's own
        assert patched(backend, partner) == partner
        assert patched(backend, f"arn:aws:events:us-east-1:1:event-bus/{partner}") == partner
        assert patched(backend, None) == "default"
    finally:
        undo()


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


def test_work_left_counted_by_a_thread_that_ended_does_not_hold_the_waits() -> None:
    """An invocation stopped at its timeout can die between counting up and counting down: once its
    thread has ended, its count is dropped. Work handed to another thread stays counted until released."""
    import threading

    from local.moto_bridge import Activity

    activity = Activity()

    def stopped_midway() -> None:
        activity.__enter__()  # and never __exit__, as a thread killed inside the block

    thread = threading.Thread(target=stopped_midway)
    thread.start()
    thread.join(5)
    assert activity.in_flight == 0 and activity.wait_quiet(0.01, time.monotonic() + 2)

    key = activity.hold()
    handed = threading.Thread(target=lambda: None)
    handed.start()
    handed.join(5)
    assert activity.in_flight == 1 and not activity.wait_quiet(0.01, time.monotonic() + 0.2)
    done = threading.Thread(target=activity.release, args=(key,))
    done.start()
    done.join(5)
    assert activity.in_flight == 0
    with activity:
        assert activity.in_flight == 1
    assert activity.in_flight == 0
