"""The bridge's patches the recovery paths rely on: an asynchronous Invoke runs later with Lambda's
retries and the function's dead-letter queue (moto runs it inside the caller's request), and a replay
sends exactly its window (tests/local/test_replay_archive.py). That a rule
target's dead letter names its target (TARGET_ARN) is shown by tests/local/test_redrive_dead_letters.py."""

import inspect
import json

from moto.awslambda.responses import LambdaResponse
from moto.events.models import Replay

from local.runtime import EmbeddedRuntime


def test_moto_still_answers_an_event_invoke_from_the_backend_we_patch() -> None:
    source = inspect.getsource(LambdaResponse.invoke)
    assert "self.backend.invoke(" in source and '"X-Amz-Invocation-Type") == "Event"' in source


def test_moto_still_replays_through_the_method_we_patch() -> None:
    assert list(inspect.signature(Replay.replay_events).parameters) == ["self", "archive"]
    assert "replay.replay_events(archive)" in inspect.getsource(
        __import__("moto.events.models", fromlist=["EventsBackend"]).EventsBackend.start_replay)


def test_an_asynchronous_invoke_is_retried_then_dead_lettered(runtime: EmbeddedRuntime) -> None:
    function = runtime.physical("TrackPipeline", "AWS::Lambda::Function")
    marker = "bridge-async-1"
    runtime.faults.inject("lambda", "Invoke", "Sandbox.Timedout", times=3, matching=marker)
    answer = runtime.client("lambda").invoke(FunctionName=function, InvocationType="Event",
                                             Payload=json.dumps({"marker": marker}).encode())
    assert answer["StatusCode"] == 202
    runtime.wait_settled()
    assert [f.operation for f in runtime.faults.fired if f.error == "Sandbox.Timedout"][-3:] == ["Invoke"] * 3
    dead = [json.loads(m["Body"]) for m in runtime.queue_messages("TrackPipelineFailed")]
    assert {"marker": marker} in dead
