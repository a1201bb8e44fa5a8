"""moto resources shaped like the stack's (tests that touch AWS through moto)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws


def create_handoff_table(name: str, region: str) -> None:
    """The handoff table: pk/sk, the gsi1 index and the search indexes, as infra/stack.py defines them."""
    from infra.handoff_indexes import SEARCH_INDEXES, SEARCH_KEY, SUMMARY_ATTRIBUTES

    keys = ("pk", "sk", "gsi1pk", "gsi1sk", SEARCH_KEY, *SEARCH_INDEXES.values())
    search = [{
        "IndexName": index, "KeySchema": [{"AttributeName": partition, "KeyType": "HASH"},
                                          {"AttributeName": SEARCH_KEY, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE",
                       "NonKeyAttributes": [a for a in SUMMARY_ATTRIBUTES if a != partition]},
    } for index, partition in SEARCH_INDEXES.items()]
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
        }, *search],
    )


def create_ledger_table(name: str, region: str) -> None:
    """The ledger table: pk/sk, as infra/stack.py defines it."""
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )


def create_idempotency_table(name: str, region: str) -> None:
    """Powertools idempotency's table: partition key `id`."""
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def forget_aws_clients() -> None:
    """The adapters cache boto3 clients per process (handoff.adapters.aws); a test with its own
    moto mock and region needs them made afresh, and must not leave its own to the next test."""
    from handoff.adapters import aws, signing_keys
    from handoff.adapters.bedrock_analyser import bedrock_client
    from handoff.adapters.idempotency import forget_persistence_layers

    signing_keys.forget()  # its SecretsProvider holds a client of the last mock
    for cached in (aws.client, aws.table, aws.resource, bedrock_client):
        cached.cache_clear()
    forget_persistence_layers()


@contextmanager
def functions_on_moto(monkeypatch: pytest.MonkeyPatch, region: str) -> Iterator[None]:
    """moto for a test that calls the functions' handlers in-process: their region, no tracing, a
    metrics namespace, and the adapters' cached clients made afresh inside the mock and forgotten
    after it."""
    from handoff.observability import metrics

    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(metrics.provider, "namespace", metrics.provider.namespace or "ClosedWonHandoffTest")
    forget_aws_clients()
    try:
        with mock_aws():
            yield
    finally:
        forget_aws_clients()


class StubSfn:
    """Records SendTask* calls; `error` makes the next calls raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.error: Exception | None = None

    def send_task_success(self, **kwargs: Any) -> dict:
        return self._call("success", kwargs)

    def send_task_failure(self, **kwargs: Any) -> dict:
        return self._call("failure", kwargs)

    def _call(self, name: str, kwargs: dict) -> dict:
        if self.error:
            raise self.error
        self.calls.append((name, kwargs))
        return {}


def create_work_items_table(name: str, region: str) -> None:
    """The work items table: pk and the byQueue and byHandoff indexes, as infra/work_queue.py defines it."""
    def index(name: str, pk: str, sk: str) -> dict:
        return {"IndexName": name, "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}]}

    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "queueKey", "dueAt", "handoffId")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[index("byQueue", "queueKey", "dueAt"), index("byHandoff", "handoffId", "pk")],
    )


def create_task_tokens_table(name: str, region: str) -> None:
    """The task-token table: partition key `pk`, as infra/task_tokens.py defines it."""
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
