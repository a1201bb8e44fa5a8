"""Every patch this runtime makes to moto, in one place. moto (pinned exactly in requirements.txt)
runs real ASL, but without Docker it runs no Lambda code, it never starts executions from
EventBridge rules, Retry and Wait really sleep, and its DynamoDB is not safe under concurrent
transactions, its SendTaskFailure drops the cause, a retried .waitForTaskToken task keeps its
first token (Step Functions issues a new one per attempt), its SES publishes no configuration-set
events and its SNS cannot invoke in-process Lambdas. One patch is boto3's, not moto's: its
condition-expression builder counts placeholders on the client, which every function shares here
(on AWS one invocation at a time uses an execution environment's client). Each gap is bridged here;
tests/local/test_moto_bridge.py fails loudly when a moto upgrade moves what is patched. Other
patches only make moto cheaper without changing what it answers (a parse tree kept, a table not
copied per transaction, DynamoDB's attribute values written directly):
tests/local/test_moto_bridge_speed.py and tests/integration/test_attribute_value_serializer.py
hold them to that.

Fault injection: `MotoBridge.faults` (`EmbeddedRuntime.faults`) is a `FaultPlan` (local/faults.py)
consulted on every AWS call the process makes while the bridge is installed (moto's botocore
stubber is wrapped, so handlers, Step Functions' own Lambda calls and the runtime's calls all meet
it) and on every Lambda invocation:

    runtime.faults.inject("dynamodb", "TransactWriteItems", "TransactionConflict", times=2)
    runtime.faults.inject("dynamodb", "*", "ThrottlingException", rate=0.1, matching="Handoff")
    runtime.faults.inject("lambda", "Invoke", "TooManyRequestsException", times=6)
    runtime.faults.inject("lambda", "Invoke", "Sandbox.Timedout", matching="SyncCustomer")
    runtime.faults.inject("ses", "SendRawEmail", "Throttling", rate=0.2)

API errors come back with AWS's code, status and wire shape (the SDK retries what it retries on
AWS, its waits scaled like Retry's); `Sandbox.Timedout` lets the function run and then reports the
invocation timed out, as Lambda does. `FaultPlan(seed=...)` makes `rate` reproducible;
`faults.fired` lists what was injected. Function timeouts are enforced for real (local/lambdas.py).
"""

import base64
import contextlib
import copy
import email
import email.policy
import functools
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import botocore.endpoint
import moto
import moto.dynamodb.models as dynamodb_models
from boto3.dynamodb.conditions import ConditionExpressionBuilder
from botocore.awsrequest import AWSResponse
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import responses as moto_responses
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
from moto.core.responses import EmptyResult
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventsBackend, Replay, ReplayState, Rule, events_backends
from moto.ses.responses import EmailResponse
from moto.sns.models import Subscription
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.responses import StepFunctionResponse

from local.faults import FaultPlan, api_error, timed_out_payload

# What the handlers must be told about moto's gaps, set in every function's environment by the
# runtime: moto 5.2.5 has no SQS message move tasks, so a redrive receives and re-sends.
GAPS_ENVIRONMENT = {"SQS_MESSAGE_MOVE": "receive-send"}

__all__ = ["GAPS_ENVIRONMENT", "MOTO_VERSION", "Activity", "FaultPlan", "Invoker", "MotoBridge", "error_payload",
           "sent_raw_messages"]

MOTO_VERSION = "5.2.5"

# Runs one Lambda invocation in-process: (function_name, event) -> (payload, error_type or None).
Invoker = Callable[[str, Any], tuple[Any, str | None]]
# A function's deployed timeout in seconds, by function name (for the timed-out payload).
TimeoutOf = Callable[[str], float]


class Activity:
    """Counts work in flight (Lambda invocations, retry back-offs, deliveries) so the runtime can
    wait for quiet without polling moto in a tight loop. A `with` block counts for its thread: an
    invocation that runs past its timeout is stopped by an exception raised in its thread
    (local/lambdas.py), which can land between a count going up and coming down, so what a finished
    thread left counted is dropped and cannot hold every wait for ever. Work handed to another
    thread is counted with `hold()` and `release(key)`."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._counts: dict[Any, int] = {}  # a thread's ident, or a held key -> work in flight
        self._held = 0
        self.changes = 0  # work started or finished so far: progress, for waits that follow it
        self.last_change = time.monotonic()

    @property
    def in_flight(self) -> int:
        with self._lock:
            if any(isinstance(k, int) for k in self._counts):
                alive = {t.ident for t in threading.enumerate()}
                for ident in [k for k in self._counts if isinstance(k, int) and k not in alive]:
                    del self._counts[ident]
            return sum(self._counts.values())

    def _up(self, key: Any) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self.changes += 1
            self.last_change = time.monotonic()

    def _down(self, key: Any) -> None:
        with self._lock:
            left = self._counts.get(key, 0) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)
            self.changes += 1
            self.last_change = time.monotonic()
            self._lock.notify_all()

    def __enter__(self) -> "Activity":
        self._up(threading.get_ident())
        return self

    def __exit__(self, *_exc: object) -> None:
        self._down(threading.get_ident())

    def hold(self) -> tuple[str, int]:
        """Count work that another thread will finish; `release(key)` there."""
        with self._lock:
            self._held += 1
            key = ("held", self._held)
        self._up(key)
        return key

    def release(self, key: tuple[str, int]) -> None:
        self._down(key)

    def wait_quiet(self, quiet_seconds: float, deadline: float) -> bool:
        with self._lock:
            while time.monotonic() < deadline:
                idle_for = time.monotonic() - self.last_change
                busy = self.in_flight
                if busy == 0 and idle_for >= quiet_seconds:
                    return True
                self._lock.wait(timeout=max(0.005, quiet_seconds - idle_for) if busy == 0 else 0.05)
            return False


class _PerThreadCount:
    """A placeholder counter of boto3's ConditionExpressionBuilder (`_name_count`, `_value_count`),
    kept per thread. boto3 keeps one builder per DynamoDB resource, resets it at the start of each
    request and counts #n0, #n1, ... :v0, ... on it; two threads sending through one resource reset
    each other's counts mid-request, and a request names two attributes #n0 (DynamoDB then answers
    "Query condition missed key schema element: pk", a ValidationException no retry cures). On AWS
    a Lambda execution environment runs one invocation at a time; here every function's invocations
    share the process and its clients, so the count must be per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __get__(self, builder: Any, owner: Any = None) -> Any:
        if builder is None:
            return self
        return getattr(self._local, "counts", {}).get(id(builder), 0)

    def __set__(self, builder: Any, value: int) -> None:
        counts = self._local.__dict__.setdefault("counts", {})
        counts[id(builder)] = value


class _TablesNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a Table is not deep-copied,
    anything else is. moto's TransactWriteItems deep-copies every table it touches (once per item)
    to roll back a cancelled transaction, which costs O(table) per transaction and grows with every
    handoff; `journaled_transaction` rolls back from the items it touched instead."""

    @staticmethod
    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def journaled_transaction(original: Callable[..., None]) -> Callable[..., None]:
    """DynamoDBBackend.transact_write_items with a rollback from a journal of the items it touches
    (their state before, and each table's stream length): all-or-nothing as on DynamoDB, without
    copying whole tables (moto's own rollback, with `_TablesNotCopied`, puts back the same table)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        journal: list[tuple[Table, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, list, int]] = {}
        touched: set[tuple[int, Any, Any]] = set()
        for entry in transact_items:
            try:
                (_, op), = entry.items()
                table = backend.get_table(op["TableName"])
                key = op["Item"] if "Item" in op else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except Exception:
                continue  # a malformed entry: moto answers it with its validation error
            if (id(table), hash_key, range_key) in touched:
                continue  # the state before the first write is the one to restore
            touched.add((id(table), hash_key, range_key))
            journal.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            shard = table.stream_shard
            if shard is not None and id(table) not in streams:
                streams[id(table)] = (shard, shard.items, len(shard.items))
        try:
            original(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(journal):
                _restore_item(table, hash_key, range_key, before)
            for shard, items, length in streams.values():
                if shard.items is items:
                    del items[length:]  # no stream record of a write that did not happen
            raise

    return transact_write_items


def bucketed_query(original: Callable[..., Any]) -> Callable[..., Any]:
    """Table.query without sorting the whole table first: moto's query starts from `all_items()`,
    every item of the table sorted by key in Python, then keeps those of the queried partition (or
    index); a query's cost grew with the table, and a burst's tables grow with every handoff. Here
    a table query sees its own partition and an index query every item unsorted; both then filter
    and sort their matches exactly as moto does. (Calls are serialized by the bridge's DynamoDB
    lock, so the table's all_items can be swapped for the call.)"""
    import inspect

    signature = inspect.signature(original)

    def query(table: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        hash_key, index_name = arguments["hash_key"], arguments.get("index_name")

        def partition() -> list[Any]:
            bucket = table.items.get(hash_key)
            if bucket is None:
                return []
            return list(bucket.values()) if table.range_key_attr else [bucket]

        def unsorted() -> list[Any]:
            return [item for bucket in table.items.values()
                    for item in (bucket.values() if table.range_key_attr else [bucket])]

        table.all_items = unsorted if index_name else partition  # type: ignore[method-assign]
        try:
            return original(table, *args, **kwargs)
        finally:
            del table.all_items

    return query


_DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
_UNSUPPORTED = object()  # a value the fast path leaves to moto's own serializer


def _blob(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).strip().decode()


def _attribute_value(value: Any) -> Any:
    """An `AttributeValue` as moto's JSON serializer writes it. moto walks the shape's ten members
    through six alias lookups for every value; on a handoff record that walk was the largest part of
    a GetItem's CPU. Anything but one well-typed member is left to moto (`_UNSUPPORTED`)."""
    if not isinstance(value, dict) or len(value) != 1:
        return _UNSUPPORTED
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return value if isinstance(inner, str) else _UNSUPPORTED
    if kind in ("BOOL", "NULL"):
        return value if isinstance(inner, bool) else _UNSUPPORTED
    if kind == "M" and isinstance(inner, dict):
        members = {name: _attribute_value(member) for name, member in inner.items()}
        return _UNSUPPORTED if _UNSUPPORTED in members.values() else {"M": members}
    if kind == "L" and isinstance(inner, list):
        items = [_attribute_value(item) for item in inner]
        return _UNSUPPORTED if any(item is _UNSUPPORTED for item in items) else {"L": items}
    if kind in ("SS", "NS") and isinstance(inner, list) and all(isinstance(i, str) for i in inner):
        return {kind: list(inner)}
    if kind == "B" and isinstance(inner, (str, bytes)):
        return {"B": _blob(inner)}
    if kind == "BS" and isinstance(inner, list) and all(isinstance(i, (str, bytes)) for i in inner):
        return {"BS": [_blob(i) for i in inner]}
    return _UNSUPPORTED


def direct_attribute_values(original: Callable[..., None]) -> Callable[..., None]:
    """moto's JSON structure serializer, writing DynamoDB's AttributeValues directly (same output,
    guarded by a property test against moto's own walk)."""

    def serialize_structure(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (key and shape.name == "AttributeValue"
                and serializer.operation_model.service_model.service_name in _DYNAMODB_SERVICES):
            direct = _attribute_value(value)
            if direct is not _UNSUPPORTED:
                serializer._default_serialize(serialized, direct, shape, key)
                return
        original(serializer, serialized, value, shape, key)

    return serialize_structure


def _restore_item(table: Table, hash_key: Any, range_key: Any, before: Any) -> None:
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
        return
    if before is not None:
        table.items[hash_key][range_key] = before
        return
    bucket = table.items.get(hash_key)
    if bucket is not None:
        bucket.pop(range_key, None)
        if not bucket:
            del table.items[hash_key]


# Lambda retries a failed asynchronous invocation twice, about one and then two minutes later.
ASYNC_RETRY_DELAYS = (60, 120)
PARSE_TREES: dict[str, Any] = {}  # ASL parse trees by definition, kept for the process
_PARSE_TREES_KEPT = 16


def kept_parse(parse: Callable[[str], tuple[Any, Any]]) -> Callable[[str], tuple[Any, Any]]:
    """moto parses the ASL (ANTLR, 0.2-0.4 s for the handoff's) when a state machine is created and
    again for every execution, and every runtime in a process creates the same one. The parse tree
    is kept per definition and only the evaluation components are built anew (they carry
    per-execution state), as `parse` itself builds them; a definition that does not parse is
    refused as before, and kept nowhere."""

    def kept(definition: str) -> tuple[Any, Any]:
        tree = PARSE_TREES.get(definition)
        if tree is not None:
            return Preprocessor().visit(tree), tree
        program, tree = parse(definition)
        if len(PARSE_TREES) >= _PARSE_TREES_KEPT:
            PARSE_TREES.pop(next(iter(PARSE_TREES)), None)
        PARSE_TREES[definition] = tree
        return program, tree

    return kept


@contextlib.contextmanager
def parse_trees_kept() -> Iterator[None]:
    """Parse trees kept while a stack is provisioned (the bridge is installed only after it, and
    keeps them from then on), so that its executions find the tree its creation parsed."""
    original = vars(AmazonStateLanguageParser)["parse"]
    AmazonStateLanguageParser.parse = staticmethod(kept_parse(original.__func__))  # type: ignore[method-assign]
    try:
        yield
    finally:
        AmazonStateLanguageParser.parse = original  # type: ignore[method-assign]


_INHERITED = object()  # a patched attribute the owner only inherited: uninstall deletes it


class MotoBridge:
    def __init__(self, invoker: Invoker, *, time_scale: float, start_execution: Callable[[str, str, str], None],
                 dead_letter: Callable[..., None], function_dead_letters: dict[str, str] | None = None,
                 faults: FaultPlan | None = None, timeout_of: TimeoutOf | None = None,
                 concurrency: int | None = None):
        """`function_dead_letters`: function name -> the queue ARN its failed asynchronous events go to.
        `concurrency`: how many of Step Functions' Lambda tasks run at once (the others wait their
        turn, as executions would behind a reserved-concurrency limit, without the throttle); None
        for no limit. Under a burst an unbounded number of runnable handler threads share the GIL,
        so a request to the approval API got 1/N of a core and took longer than a browser waits."""
        self.invoker = invoker
        self.concurrency = threading.BoundedSemaphore(concurrency) if concurrency else None
        self.faults = faults if faults is not None else FaultPlan()
        self.timeout_of = timeout_of or (lambda _name: 3.0)
        self.function_dead_letters = dict(function_dead_letters or {})
        self.time_scale = time_scale
        self.start_execution = start_execution
        self.dead_letter = dead_letter
        self.activity = Activity()
        self.slept: list[float] = []  # scaled retry/wait intervals actually slept, for tests
        self.lambda_clients: dict[tuple[str, str, bool], Any] = {}  # moto's Lambda clients, one per region
        self.meter: Any = None  # a local.metering.Meter told of every AWS call, when set
        self._patched: list[tuple[Any, str, Any]] = []  # (owner, attribute, what it was), to undo

    # --- install / remove -------------------------------------------------------------------
    def install(self) -> None:
        if moto.__version__ != MOTO_VERSION:
            raise RuntimeError(f"the local runtime patches moto {MOTO_VERSION}; found {moto.__version__}. "
                               "Re-check local/moto_bridge.py before upgrading.")
        bridge = self
        stubber_call = BotocoreStubber.__call__

        def faulty_stubber_call(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            # event_name is "before-send.<service id>.<Operation>"; an injected API error is answered
            # here, before moto acts, exactly as AWS would answer it.
            if stubber.enabled and bridge.faults.faults:
                _, service, operation = [*event_name.split("."), "", ""][:3]
                body = request.body if isinstance(request.body, (bytes, str)) else b""
                text = f"{request.url} {body.decode('utf-8', 'replace') if isinstance(body, bytes) else body}"
                fault = bridge.faults.draw(service, operation, text, function_error=False)
                if fault is not None:
                    status, headers, payload = api_error(fault, service, body)
                    return AWSResponse(request.url, status, headers, MockRawResponse(payload))
            response = stubber_call(stubber, event_name, request, **kwargs)
            if bridge.meter is not None and stubber.enabled and response is not None:
                _, service, operation = [*event_name.split("."), "", ""][:3]
                # Only DynamoDB's answers are read (their size is what reads are billed by): reading
                # a streaming answer (Lambda's Payload, S3's Body) here would leave it empty.
                body = response.content if service == "dynamodb" else None
                bridge.meter.api_call(service, operation, request.body, body)
            return response
        dynamodb_lock = threading.RLock()
        dynamodb_call = DynamoHandler.call_action

        def serialized_dynamodb_call(handler: DynamoHandler) -> Any:
            # moto's DynamoDB deep-copies tables inside transactions; a concurrent write (Parallel
            # branches run in threads here) breaks the copy. DynamoDB itself serializes per item.
            with dynamodb_lock:
                return dynamodb_call(handler)

        def invoke(backend: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any,
                   headers: Any, response_headers: dict) -> bytes:
            fn = backend.get_function(function_name, qualifier)
            event = json.loads(body) if body else {}
            if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
                # An asynchronous invoke is queued (202) and run later, with Lambda's retries and the
                # function's dead-letter queue; moto would run it in the caller's request.
                bridge._later(bridge._invoke_async, {"Arn": fn.function_arn}, event)
                return b""
            with bridge.activity:
                if bridge.concurrency is None:
                    payload, error_type = bridge.run_function(fn.function_name, event)
                else:
                    with bridge.concurrency:
                        payload, error_type = bridge.run_function(fn.function_name, event)
            if error_type:
                # Without this header Step Functions sees a success and Retry/Catch never match.
                response_headers["x-amz-function-error"] = "Unhandled"
            data = json.dumps(payload).encode()
            response_headers["Content-Length"] = str(len(data))
            return data

        moto_send_to_targets = Rule.send_to_targets

        def send_to_targets(rule: Rule, original_event: dict, transform_input: bool = True) -> None:
            if not rule.event_pattern.matches_event(original_event):
                return
            others = [t for t in rule.targets if t["Arn"].split(":")[2] not in ("states", "lambda")]
            for target in rule.targets:
                service = target["Arn"].split(":")[2]
                if service in ("states", "lambda"):
                    bridge._deliver(target, service, original_event, rule.arn)
            if others:
                saved = rule.targets
                rule.targets = others
                try:
                    moto_send_to_targets(rule, original_event, transform_input)
                finally:
                    rule.targets = saved

        class _ScaledTime:
            @staticmethod
            def sleep(seconds: float) -> None:
                bridge.sleep(seconds)

            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

        def wait_interval(wait_function: WaitFunction, env: Any, wait_seconds: int) -> None:
            if wait_seconds > 0:
                scaled = wait_seconds * bridge.time_scale
                bridge.slept.append(scaled)
                with bridge.activity:
                    env.program_state_event.wait(scaled)

        def send_task_failure(response: StepFunctionResponse) -> Any:
            # moto reads `error` but not `cause`, so a rejection's comment never reached the Catch.
            response.stepfunction_backend.send_task_failure(
                response._get_param("taskToken"), error=response._get_param("error"),
                cause=response._get_param("cause"))
            return EmptyResult()

        task_execution = StateTaskServiceCallback._eval_execution

        def fresh_token_per_attempt(state: StateTaskServiceCallback, env: Any) -> None:
            # Step Functions hands every attempt of a .waitForTaskToken task a new token; moto makes
            # one when the state is entered and reuses it on Retry. A retried request step must meet
            # a new token, as on AWS, so that tests prove it does not ask or mail twice.
            context = env.states.context_object
            if (context.context_object_data.get("State", {}).get("RetryCount", 0) > 0
                    and state._is_integration_pattern()
                    and ResourceCondition.WaitForTaskToken in state._supported_integration_patterns):
                env.callback_pool_manager.add(context.update_task_token())
            task_execution(state, env)

        moto_send_raw_email = EmailResponse.send_raw_email

        def ses_send_raw_email(response: EmailResponse) -> Any:
            # SES publishes a configuration set's events (a bounce from the mailbox simulator) to its
            # destinations some seconds after accepting the message; moto publishes none.
            result = moto_send_raw_email(response)
            configuration_set = response._get_param("ConfigurationSetName")
            if configuration_set:
                bridge._later(bridge._ses_events, response.backend, configuration_set, result.result["MessageId"],
                              response._get_param("Source"), response._get_param("RawMessage.Data"))
            return result

        moto_publish = Subscription.publish

        def sns_deliver(subscription: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
            if subscription.protocol != "lambda":
                return moto_publish(subscription, message, message_id, *args, **kwargs)
            # SNS invokes the function asynchronously with its own record format.
            event = sns_lambda_event(subscription, message, message_id, kwargs.get("subject"))
            bridge._later(bridge._invoke_async, {"Arn": subscription.endpoint}, event)
            return None

        def replay_events(replay: Replay, archive: Any) -> None:
            # moto replays the whole archive at once, inside StartReplay; EventBridge replays the
            # window's events, oldest first, after answering (STARTING, RUNNING, COMPLETED).
            replay.state = ReplayState.RUNNING
            bridge._later(bridge._replay, replay, list(archive.events))

        lambda_clients: dict[tuple[str, str, bool], Any] = {}
        lambda_client_for = lambda_eval_utils.boto_client_for

        def cached_lambda_client(region: str, service: str, state_credentials: Any = None) -> Any:
            # moto builds a boto3 client (loading the service model) for every Lambda task; one
            # per region serves them all (clients are thread-safe; credentials are moto's fixed ones).
            from moto.core.models import botocore_stubber

            key = (region, service, botocore_stubber.enabled)
            client = lambda_clients.get(key)
            if client is None:
                client = lambda_clients.setdefault(key, lambda_client_for(region, service, state_credentials))
            return client

        self.lambda_clients = lambda_clients
        self._patch([
            (LambdaSimpleBackend, "invoke", invoke),
            (Rule, "send_to_targets", send_to_targets),
            (retrier_decl, "time", _ScaledTime()),
            (WaitFunction, "_wait_interval", wait_interval),
            (DynamoHandler, "call_action", serialized_dynamodb_call),
            (StepFunctionResponse, "send_task_failure", send_task_failure),
            (StateTaskServiceCallback, "_eval_execution", fresh_token_per_attempt),
            (BotocoreStubber, "__call__", faulty_stubber_call),
            (botocore.endpoint, "time", _ScaledTime()),  # the SDK's retry back-off, scaled like Retry's
            (EmailResponse, "send_raw_email", ses_send_raw_email),
            (Subscription, "publish", sns_deliver),
            (Replay, "replay_events", replay_events),
            (DynamoDBBackend, "transact_write_items", journaled_transaction(DynamoDBBackend.transact_write_items)),
            (dynamodb_models, "copy", _TablesNotCopied()),
            (Table, "query", bucketed_query(Table.query)),
            (lambda_eval_utils, "boto_client_for", cached_lambda_client),
            (AmazonStateLanguageParser, "parse", staticmethod(kept_parse(AmazonStateLanguageParser.parse))),
            # JSONPath expressions (ply-parsed, immutable) are parsed again at every state; keep them.
            (json_path, "parse", functools.lru_cache(maxsize=4096)(json_path.parse)),
            (result_path, "parse", functools.lru_cache(maxsize=4096)(result_path.parse)),
            (BaseJSONSerializer, "_serialize_type_structure",
             direct_attribute_values(BaseJSONSerializer._serialize_type_structure)),
            # moto lists a response class's methods (inspect.getmembers) on every request.
            (moto_responses, "method_names_from_class", functools.cache(moto_responses.method_names_from_class)),
            (ConditionExpressionBuilder, "_name_count", _PerThreadCount()),
            (ConditionExpressionBuilder, "_value_count", _PerThreadCount()),
        ])

    def _patch(self, patches: list[tuple[Any, str, Any]]) -> None:
        """Each (owner, attribute, replacement) set, and what the owner held noted for uninstall:
        one table serves both."""
        self._patched = [(owner, name, vars(owner).get(name, _INHERITED)) for owner, name, _ in patches]
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._patched):
            if original is _INHERITED:
                delattr(owner, name)  # back to the inherited one
            else:
                setattr(owner, name, original)
        self._patched = []

    # --- behaviour -------------------------------------------------------------------------------
    def run_function(self, function_name: str, event: Any) -> tuple[Any, str | None]:
        """One invocation through the Lambda service: the handler runs; an injected function error
        (Sandbox.Timedout) then replaces its answer, as a timeout after the work would."""
        payload, error_type = self.invoker(function_name, event)
        fault = self.faults.draw("lambda", "Invoke", f"{function_name} {json.dumps(event, default=str)}",
                                 function_error=True)
        if fault is not None:
            return timed_out_payload(self.timeout_of(function_name), str(uuid.uuid4())), fault.error
        return payload, error_type

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` at the runtime's scale (1 s = 1 ms by default), counted as activity."""
        scaled = seconds * self.time_scale
        self.slept.append(scaled)
        with self.activity:
            time.sleep(scaled)

    def _later(self, work: Callable[..., None], *args: Any) -> None:
        """Run `work` on its own thread, counted as activity from now (wait_settled waits for it)."""
        key = self.activity.hold()

        def run() -> None:
            try:
                work(*args)
            finally:
                self.activity.release(key)

        threading.Thread(target=run, daemon=True).start()

    def _ses_events(self, backend: Any, configuration_set: str, message_id: str, source: str, raw: Any) -> None:
        """What SES's event publishing sends for a message to the mailbox simulator's bounce or
        complaint address, to each SNS destination of the configuration set that takes that event."""
        self.sleep(2)  # SES reports a simulator bounce within seconds, after the send returned
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        for event in ses_simulator_events(configuration_set, message_id, source, text):
            destination = backend.config_set_event_destination.get(configuration_set) or {}
            topic = (destination.get("SNSDestination") or {}).get("TopicARN")
            wanted = [t.lower() for t in destination.get("MatchingEventTypes", [])]
            if topic and destination.get("Enabled", True) and event["eventType"].lower() in wanted:
                from moto.sns.models import sns_backends

                region = topic.split(":")[3]
                sns_backends[topic.split(":")[4]][region].publish(json.dumps(event), arn=topic)

    def _replay(self, replay: Replay, archived: list[dict]) -> None:
        """The archived events of [EventStartTime, EventEndTime), in the order they happened, each to
        every rule of the destination bus with a new id and `replay-name`, as EventBridge sends them."""
        start, end = _epoch(replay.event_start_time), _epoch(replay.event_end_time)
        chosen = sorted((e for e in archived if start <= _epoch(e.get("time")) < end), key=lambda e: _epoch(e["time"]))
        bus = events_backends[replay.account_id][replay.region].describe_event_bus(
            replay.destination["Arn"].split("event-bus/", 1)[-1])
        for event in chosen:
            replayed = {**event, "id": str(uuid.uuid4()), "replay-name": replay.name}
            for rule in list(bus.rules.values()):
                rule.send_to_targets(replayed, transform_input=False)
            replay.last_replayed = event["time"]
        replay.state = ReplayState.COMPLETED
        replay.end_time = time.time()

    def _deliver(self, target: dict, service: str, event: dict, rule_arn: str = "") -> None:
        """EventBridge target delivery with the target's retry policy and dead-letter queue."""
        attempts = 1 + int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185))
        with self.activity:
            last_error = ""
            for attempt in range(attempts):
                try:
                    if service == "states":
                        # The whole envelope is the input (the deal sits under `detail`, as on AWS);
                        # the event id makes a unique execution name.
                        self.start_execution(target["Arn"], event.get("id") or str(uuid.uuid4()), json.dumps(event))
                    else:
                        threading.Thread(target=self._invoke_async, args=(target, event), daemon=True).start()
                    return
                except Exception as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    if attempt + 1 < attempts:
                        self.sleep(min(2 ** attempt, 60))
            dlq = target.get("DeadLetterConfig", {}).get("Arn")
            if dlq:
                # EventBridge names the target (and rule) of a dead letter in its attributes.
                self.dead_letter(dlq, event, last_error, {"TARGET_ARN": target["Arn"], **(
                    {"RULE_ARN": rule_arn} if rule_arn else {})})

    def _invoke_async(self, target: dict, event: dict) -> None:
        """Asynchronous invocation as Lambda does it: retried on error, then the function's DLQ."""
        function_name = target["Arn"].split(":")[6]
        with self.activity:
            for delay in (*ASYNC_RETRY_DELAYS, None):
                payload, error = self.run_function(function_name, event)
                if not error:
                    return
                if delay is not None:
                    self.sleep(delay)
            dlq = self.function_dead_letters.get(function_name)
            if dlq:
                self.dead_letter(dlq, event, f"{error}: {payload.get('errorMessage', '') if isinstance(payload, dict) else ''}")


SIMULATOR = "simulator.amazonses.com"


def ses_simulator_events(configuration_set: str, message_id: str, source: str, raw: str) -> list[dict]:
    """SES event records (format of the SES developer guide, "Examples of event data that Amazon SES
    publishes to Amazon SNS") for the recipients at the mailbox simulator: bounce@ bounces
    (Permanent, General), complaint@ complains. The message's tags come from X-SES-MESSAGE-TAGS."""
    message = email.message_from_string(raw, policy=email.policy.default)
    recipients = [str(a.addr_spec) for field in ("To", "Cc") for a in getattr(message.get(field), "addresses", ())]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    tags: dict[str, list[str]] = {"ses:configuration-set": [configuration_set],
                                  "ses:from-domain": [source.rpartition("@")[2]],
                                  "ses:source-ip": ["127.0.0.1"]}
    for pair in str(message.get("X-SES-MESSAGE-TAGS") or "").split(","):
        name, _, value = pair.strip().partition("=")
        if name and value:
            tags[name] = [value]
    mail = {"timestamp": now, "source": source, "sendingAccountId": "123456789012", "messageId": message_id,
            "sourceArn": f"arn:aws:ses:us-east-1:123456789012:identity/{source.rpartition('@')[2]}",
            "destination": recipients, "headersTruncated": False,
            "headers": [{"name": k, "value": str(v)} for k, v in message.items()],
            "commonHeaders": {"from": [str(message.get("From", source))], "to": recipients,
                              "messageId": message_id, "subject": str(message.get("Subject", ""))},
            "tags": tags}
    events = []
    bounced = [r for r in recipients if r.partition("+")[0].split("@")[0] == "bounce" and r.endswith("@" + SIMULATOR)]
    if bounced:
        events.append({"eventType": "Bounce", "mail": mail, "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General", "timestamp": now,
            "feedbackId": f"{message_id}-bounce", "reportingMTA": "dns; amazonses.com",
            "bouncedRecipients": [{"emailAddress": r, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"} for r in bounced]}})
    complained = [r for r in recipients if r.split("@")[0].partition("+")[0] == "complaint" and r.endswith("@" + SIMULATOR)]
    if complained:
        events.append({"eventType": "Complaint", "mail": mail, "complaint": {
            "timestamp": now, "feedbackId": f"{message_id}-complaint", "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": r} for r in complained]}})
    return events


def _epoch(value: Any) -> float:
    """moto keeps event and replay times as epoch seconds (PutEvents' Time, StartReplay's window);
    an ISO 8601 string is read too."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            from datetime import datetime

            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0


def sns_lambda_event(subscription: Any, message: str, message_id: str, subject: str | None) -> dict:
    """The event SNS invokes a subscribed function with (one record per message)."""
    topic = subscription.topic.arn
    region = topic.split(":")[3]
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn,
        "Sns": {
            "Type": "Notification", "MessageId": message_id, "TopicArn": topic, "Subject": subject,
            "Message": message, "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "SignatureVersion": "1", "Signature": "EXAMPLE",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription.arn}",
            "MessageAttributes": {},
        },
    }]}


def partner_event_bus_names() -> Callable[[], None]:
    """moto takes an event bus's name after the last '/' of what it is given (for ARNs), which
    loses partner event buses, whose names contain slashes (aws.partner/salesforce.com/<org>/<channel>).
    Names are taken whole, ARNs after "event-bus/". Installed before provisioning; returns the undo."""
    original = EventsBackend._normalize_event_bus_arn

    def normalize(backend: EventsBackend, event_bus_arn: str | None) -> str:
        if event_bus_arn is None:
            return "default"
        return event_bus_arn.split(":event-bus/", 1)[1] if event_bus_arn.startswith("arn:") else event_bus_arn

    normalize.__wrapped__ = getattr(original, "__wrapped__", original)  # type: ignore[attr-defined]
    EventsBackend._normalize_event_bus_arn = normalize
    return lambda: setattr(EventsBackend, "_normalize_event_bus_arn", original)


def sent_raw_messages(account: str, region: str) -> list[tuple[str, str]]:
    """What SES "sent": (message id, raw MIME text). Reads moto's SES backend (internal API)."""
    from moto.ses.models import RawMessage, ses_backends

    backend = ses_backends[account][region]
    return [(m.id, m.raw_data) for m in backend.sent_messages if isinstance(m, RawMessage)]


def error_payload(exc: BaseException) -> dict:
    """The body Lambda returns for an unhandled error; errorType is what Retry and Catch match."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def stream_records(session: Any, stream_arn: str) -> list[dict]:
    """Every record of a DynamoDB stream, oldest first, from moto's DynamoDB Streams (it implements
    DescribeStream, GetShardIterator and GetRecords). botocore sends stream calls to account-id
    endpoints (<account>.streams-ddb.<region>...), which moto 5.2.5 does not route ("Not yet
    implemented", 404), so this client keeps the regional endpoint."""
    from botocore.config import Config

    streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    records: list[dict] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
    return sorted(records, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
