"""The bridge's speed patches (local/moto_bridge.py): what moto redoes per transaction, execution and
Lambda task is done once, without changing what it does; Step Functions' Lambda tasks queue behind
a concurrency limit while the approval API does not; waits follow progress."""

import copy
import inspect
import threading
import time

import pytest
from botocore.exceptions import ClientError
from moto.core.responses import BaseResponse
from moto.core.serialize import ResponseSerializer
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local.moto_bridge import PARSE_TREES
from local.provision import ACCOUNT, REGION
from local.runtime import EmbeddedRuntime
from tests.conftest import load_raw


def test_patched_internals_still_have_the_shapes_we_replace() -> None:
    # Once moto stops copying whole tables per transaction item, the journal can go.
    transact = inspect.getsource(DynamoDBBackend.transact_write_items)
    assert "copy.deepcopy(\n                    self.tables[table_name]" in transact
    # A query starts from all_items() (sorted, whole table), filters by partition or index, then sorts.
    query = inspect.getsource(Table.query)
    assert query.count("self.all_items()") == 2 and "possible_results.sort(key=lambda item: item.range_key)" in query
    assert list(inspect.signature(Table.query).parameters)[:2] == ["self", "hash_key"]
    assert "boto_client_for(" in inspect.getsource(lambda_eval_utils.exec_lambda_function)
    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(ExecutionWorker._get_evaluation_entrypoint)
    assert "AmazonStateLanguageParser.parse(definition)" in inspect.getsource(StepFunctionsParserBackend._validate_definition)
    assert "program = preprocessor.visit(tree)" in inspect.getsource(AmazonStateLanguageParser.parse)
    # Structures (DynamoDB's AttributeValue among them) are written by _serialize_type_structure,
    # found by the shape's type name; the response class's methods are listed on every request.
    assert 'f"_serialize_type_{shape.type_name}"' in inspect.getsource(ResponseSerializer._serialize)
    assert "method_names_from_class(self.__class__)" in inspect.getsource(BaseResponse.call_action)


def _handoff(opportunity: str, example: str = "us-fixed-fee-advisory") -> dict:
    event = load_raw("closed-won", example)
    event["detail"]["opportunity"]["id"] = opportunity
    event["detail"]["eventId"] = f"evt-{opportunity}"
    return event


def _status(runtime: EmbeddedRuntime, opportunity: str) -> str:
    return next(r.status for r in runtime.records() if r.opportunity_id == opportunity)


def test_a_cancelled_transaction_rolls_back_what_it_wrote_without_copying_the_table(runtime: EmbeddedRuntime) -> None:
    dynamodb = runtime.client("dynamodb")
    name = runtime.env("HANDOFF_TABLE")
    keys = [k["AttributeName"] for k in dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]]

    def key(n: str) -> dict:
        return {attribute: {"S": f"speed-{n}"} for attribute in keys}

    dynamodb.put_item(TableName=name, Item={**key("kept"), "state": {"S": "before"}})
    table = dynamodb_backends[ACCOUNT][REGION].tables[name]
    shard = table.stream_shard
    stream_length = len(shard.items) if shard is not None else 0
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {**key("new"), "state": {"S": "written"}}}},
            {"Update": {"TableName": name, "Key": key("kept"), "UpdateExpression": "SET #s = :s",
                        "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":s": {"S": "changed"}}}},
            {"Put": {"TableName": name, "Item": {**key("refused"), "state": {"S": "x"}},
                     "ConditionExpression": "attribute_exists(#s)", "ExpressionAttributeNames": {"#s": "state"}}},
        ])
    assert dynamodb_backends[ACCOUNT][REGION].tables[name] is table  # not replaced by a copy
    assert "Item" not in dynamodb.get_item(TableName=name, Key=key("new"), ConsistentRead=True)
    assert dynamodb.get_item(TableName=name, Key=key("kept"), ConsistentRead=True)["Item"]["state"] == {"S": "before"}
    assert (len(shard.items) if shard is not None else 0) == stream_length  # no record of writes that did not happen
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {**key("new"), "state": {"S": "written"}}}},
        {"Update": {"TableName": name, "Key": key("kept"), "UpdateExpression": "SET #s = :s",
                    "ExpressionAttributeNames": {"#s": "state"}, "ExpressionAttributeValues": {":s": {"S": "changed"}}}},
    ])
    assert dynamodb.get_item(TableName=name, Key=key("new"), ConsistentRead=True)["Item"]["state"] == {"S": "written"}
    assert dynamodb.get_item(TableName=name, Key=key("kept"), ConsistentRead=True)["Item"]["state"] == {"S": "changed"}


def test_queries_answer_from_their_partition_or_index_as_moto_does(runtime: EmbeddedRuntime) -> None:
    dynamodb = runtime.client("dynamodb")
    name = "speed-query"
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    for pk, sk, g in [("b", "2", "x"), ("a", "3", "y"), ("b", "1", "y"), ("b", "3", "x"), ("c", "1", "x")]:
        dynamodb.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"S": sk}, "g": {"S": g}})

    def keys(**query: object) -> list[tuple[str, str]]:
        items = dynamodb.query(TableName=name, **query)["Items"]
        return [(i["pk"]["S"], i["sk"]["S"]) for i in items]

    assert keys(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "b"}}) == [
        ("b", "1"), ("b", "2"), ("b", "3")]
    assert keys(KeyConditionExpression="pk = :p AND sk > :s", ScanIndexForward=False,
                ExpressionAttributeValues={":p": {"S": "b"}, ":s": {"S": "1"}}) == [("b", "3"), ("b", "2")]
    assert keys(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}}) == []
    assert keys(IndexName="byG", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "x"}}) == [
        ("c", "1"), ("b", "2"), ("b", "3")]
    page = dynamodb.query(TableName=name, KeyConditionExpression="pk = :p", Limit=2,
                          ExpressionAttributeValues={":p": {"S": "b"}})
    rest = dynamodb.query(TableName=name, KeyConditionExpression="pk = :p", ExclusiveStartKey=page["LastEvaluatedKey"],
                          ExpressionAttributeValues={":p": {"S": "b"}})
    assert [i["sk"]["S"] for i in page["Items"] + rest["Items"]] == ["1", "2", "3"]
    assert "all_items" not in vars(dynamodb_backends[ACCOUNT][REGION].tables[name])  # put back after each call


def _antlr_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ANTLR parses of a state machine (what the kept parse tree saves)."""
    parses: list[int] = []
    original = ASLParser.state_machine

    def counted(self: ASLParser) -> object:
        parses.append(1)
        return original(self)

    monkeypatch.setattr(ASLParser, "state_machine", counted)
    return parses


def test_executions_share_one_parse_and_one_lambda_client(runtime: EmbeddedRuntime,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime.bridge is not None
    parses = _antlr_parses(monkeypatch)
    runtime.publish([_handoff("speed-parse-1"), _handoff("speed-parse-2")])
    runtime.wait_settled()
    assert {_status(runtime, f"speed-parse-{n}") for n in (1, 2)} == {"ACTIVATED"}
    assert parses == []  # the executions built their components from the tree kept at creation
    definition = runtime.client("stepfunctions").describe_state_machine(
        stateMachineArn=runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine"))["definition"]
    assert definition in PARSE_TREES
    assert len(runtime.bridge.lambda_clients) == 1
    client = lambda_eval_utils.boto_client_for(region=REGION, service="lambda")
    assert client is lambda_eval_utils.boto_client_for(region=REGION, service="lambda")


def test_a_state_machine_created_again_is_not_parsed_again_and_a_bad_one_is_still_refused(
        runtime: EmbeddedRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = runtime.client("stepfunctions")
    workflow = sfn.describe_state_machine(
        stateMachineArn=runtime.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine"))
    parses = _antlr_parses(monkeypatch)
    # What every other runtime in the process does when it provisions the same stack.
    sfn.create_state_machine(name="SpeedParseAgain", definition=workflow["definition"], roleArn=workflow["roleArn"])
    assert parses == []
    broken = workflow["definition"].replace('"StartAt"', '"StartsAt"', 1)
    with pytest.raises(ClientError, match="ASLParserException"):  # moto's InvalidDefinition, without its code
        sfn.create_state_machine(name="SpeedParseBroken", definition=broken, roleArn=workflow["roleArn"])
    assert broken not in PARSE_TREES and len(parses) == 1
    with pytest.raises(ClientError, match="ASLParserException"):  # refused again, parsed again: never kept
        sfn.create_state_machine(name="SpeedParseBroken", definition=broken, roleArn=workflow["roleArn"])
    assert len(parses) == 2


def test_step_functions_tasks_queue_behind_the_concurrency_limit_and_the_approval_api_does_not(
        runtime: EmbeddedRuntime) -> None:
    bridge = runtime.bridge
    assert bridge is not None and bridge.concurrency is not None
    running, most = 0, 0
    lock = threading.Lock()
    invoker = bridge.invoker

    def counting(name: str, event: object) -> tuple:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return invoker(name, event)
        finally:
            with lock:
                running -= 1

    saved, bridge.concurrency, bridge.invoker = bridge.concurrency, threading.BoundedSemaphore(2), counting
    try:
        runtime.publish([*(_handoff(f"speed-limit-{n}") for n in range(3)),
                         _handoff("speed-api-1", "emea-milestone-erp-rollout")])
        runtime.wait_settled()
        assert 1 <= most <= 2
        # Every task permit taken (a busy runtime): the approval page still answers, over HTTP.
        for _ in range(2):
            bridge.concurrency.acquire()
        link = next(link for mail, link in runtime.approval_links() if "speed-api-1" in mail.subject)
        status, _page = runtime.decide(link, "approve", "decided while every task permit was taken")
        assert status == 200
        for _ in range(2):
            bridge.concurrency.release()
        runtime.decide_all("approve")
    finally:
        bridge.concurrency, bridge.invoker = saved, invoker
    assert {_status(runtime, f"speed-limit-{n}") for n in range(3)} == {"ACTIVATED"}
    assert _status(runtime, "speed-api-1") == "ACTIVATED"


def test_waits_follow_progress_not_a_fixed_timeout(runtime: EmbeddedRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    bridge = runtime.bridge
    assert bridge is not None
    invoker = bridge.invoker

    def slow(name: str, event: object) -> tuple:
        time.sleep(0.3)  # each of the 9 tasks is well within the wait's patience...
        return invoker(name, event)

    bridge.invoker = slow
    try:
        started = time.monotonic()
        runtime.publish([_handoff("speed-progress-1")])
        runtime.wait_settled(timeout=2)  # ...the whole is longer than it: progress keeps it waiting
        assert time.monotonic() - started > 2 and _status(runtime, "speed-progress-1") == "ACTIVATED"
    finally:
        bridge.invoker = invoker
    # Nothing in flight and nothing changing, yet not settled (a message its consumer never takes):
    # the wait gives up after its patience, naming it.
    monkeypatch.setattr(runtime.queue_poller, "drained", lambda: False)
    with pytest.raises(TimeoutError, match="no progress for 0.5 s"):
        runtime.wait_settled(timeout=0.5)


def test_json_path_expressions_are_parsed_once(runtime: EmbeddedRuntime) -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    assert runtime.bridge is not None
    assert json_path.parse("$.a.b") is json_path.parse("$.a.b")
    assert json_path.extract_json("$.a.b", copy.deepcopy({"a": {"b": 7}})) == 7


def test_the_meter_counts_what_a_handoff_would_be_billed_for(runtime: EmbeddedRuntime) -> None:
    from local.metering import Meter

    assert runtime.bridge is not None
    meter = Meter()
    runtime.bridge.meter = runtime.lambdas.meter = meter
    try:
        runtime.publish([_handoff("speed-meter-1")])
        runtime.wait_settled()
    finally:
        runtime.bridge.meter = runtime.lambdas.meter = None
    assert _status(runtime, "speed-meter-1") == "ACTIVATED"  # metering read no streamed answer away
    execution = max(runtime.executions(), key=lambda e: e["startDate"])
    scheduled = sum(1 for e in runtime.history(execution["executionArn"]) if e["type"] == "TaskScheduled")
    calls = meter.product_calls()
    assert calls[("lambda", "Invoke")] == scheduled == 9  # every Task of the path, nothing else
    assert calls[("ses", "SendRawEmail")] == 1 and calls[("s3", "PutObject")] >= 1
    assert calls[("sfn", "ListExecutions")] == 0  # the runtime's own watching is not the product's
    assert any(origin == "runtime" for origin, _service, _operation in meter.calls)
    summary = meter.summary()
    assert summary["dynamodb_wru"] >= calls[("dynamodb", "PutItem")] + 2 * calls[("dynamodb", "TransactWriteItems")]
    assert summary["dynamodb_rru"] > 0 and summary["lambda_gb_seconds"] > 0
    assert sum(meter.invocations.values()) >= scheduled
