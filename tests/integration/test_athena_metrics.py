"""The console's Athena adapter when Athena does not answer as hoped: a missing named query, a
failed query, a query over its time; and how it reads Athena's typed strings. Athena's answers are
stubbed with botocore's Stubber, which checks every request against the service model."""

from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from handoff.adapters.athena_metrics import AthenaMetrics, self_contained
from handoff.ports.metrics import MetricsUnavailable

VIEWS = [("view facts", "-- one copy\nCREATE OR REPLACE VIEW facts AS\nSELECT * FROM facts_raw;\n"),
         ("view totals", "CREATE OR REPLACE VIEW totals AS\nSELECT count(*) AS n FROM facts\n")]


def _client() -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def _named(stub: Stubber, named: dict[str, str]) -> None:
    stub.add_response("list_named_queries", {"NamedQueryIds": [f"id-{n}".replace(" ", "-") for n in named]},
                      {"WorkGroup": "wg"})
    for name, text in named.items():
        stub.add_response("get_named_query", {"NamedQuery": {"Name": name, "Database": "db", "QueryString": text}},
                          {"NamedQueryId": f"id-{name}".replace(" ", "-")})


def _adapter(client: Any, **kwargs: Any) -> AthenaMetrics:
    return AthenaMetrics(client, workgroup="wg", database="db", names=["counts"], poll_seconds=0, **kwargs)


def test_views_go_in_front_of_the_query_in_dependency_order() -> None:
    reversed_views = list(reversed(VIEWS))
    sql = self_contained(reversed_views, "-- counts\nWITH x AS (SELECT n FROM totals)\nSELECT n FROM x;")
    assert sql == ("WITH facts AS (\nSELECT * FROM facts_raw\n),\ntotals AS (\nSELECT count(*) AS n FROM facts\n),\n"
                   "x AS (SELECT n FROM totals)\nSELECT n FROM x")
    assert self_contained(VIEWS, "SELECT n FROM totals").endswith("\n)\nSELECT n FROM totals")


def test_a_named_query_missing_from_the_workgroup_is_named() -> None:
    client, stub = _client()
    _named(stub, dict(VIEWS))
    with stub, pytest.raises(MetricsUnavailable, match="no named query counts"):
        _adapter(client).query("counts")


def test_a_failed_query_is_unavailable_with_athenas_reason() -> None:
    client, stub = _client()
    _named(stub, {**dict(VIEWS), "counts": "SELECT n FROM totals"})
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"}, {
        "QueryString": ANY, "WorkGroup": "wg", "QueryExecutionContext": {"Database": "db"},
        "ResultReuseConfiguration": ANY})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
        "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: facts_raw"}}}, {"QueryExecutionId": "q1"})
    with stub, pytest.raises(MetricsUnavailable, match="counts FAILED: TABLE_NOT_FOUND"):
        _adapter(client).query("counts")


def test_a_query_over_its_time_is_stopped() -> None:
    client, stub = _client()
    _named(stub, {**dict(VIEWS), "counts": "SELECT n FROM totals"})
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"}, None)
    running = {"QueryExecution": {"Status": {"State": "RUNNING"}}}
    stub.add_response("get_query_execution", running, {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", running, {"QueryExecutionId": "q1"})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q1"})
    clock = iter([0.0, 0.0, 30.0])
    with stub, pytest.raises(MetricsUnavailable, match="took over 25 s"):
        _adapter(client, clock=lambda: next(clock), sleep=lambda _s: None).query("counts")
    stub.assert_no_pending_responses()


def test_typed_values_nulls_and_the_header_row_across_pages() -> None:
    client, stub = _client()
    _named(stub, {**dict(VIEWS), "counts": "SELECT n FROM totals"})
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"}, None)
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}, None)
    columns = [{"Name": n, "Type": t} for n, t in (("line", "varchar"), ("n", "bigint"), ("rate", "double"),
                                                   ("amount", "decimal"), ("synthetic", "boolean"))]
    header = {"Data": [{"VarCharValue": c["Name"]} for c in columns]}
    stub.add_response("get_query_results", {"NextToken": "2", "ResultSet": {
        "ResultSetMetadata": {"ColumnInfo": columns},
        "Rows": [header, {"Data": [{"VarCharValue": "advisory"}, {"VarCharValue": "3"}, {"VarCharValue": "0.5"},
                                   {"VarCharValue": "10.50"}, {"VarCharValue": "false"}]}]}}, {"QueryExecutionId": "q1"})
    stub.add_response("get_query_results", {"ResultSet": {
        "ResultSetMetadata": {"ColumnInfo": columns},
        "Rows": [{"Data": [{"VarCharValue": "erp"}, {"VarCharValue": "2"}, {}, {}, {"VarCharValue": "true"}]}]}},
        {"QueryExecutionId": "q1", "NextToken": "2"})
    with stub:
        rows = _adapter(client).query("counts")
    assert rows == [{"line": "advisory", "n": 3, "rate": 0.5, "amount": Decimal("10.50"), "synthetic": False},
                    {"line": "erp", "n": 2, "rate": None, "amount": None, "synthetic": True}]
