"""The report, the console and the Athena queries agree on the same facts (issue 12, "done when").

One hand-written set of facts (tests/unit/test_analytics_sql.py, where every answer is worked out by
hand) goes three ways:
- the report: `python -m local report --facts DIR --json` (local/report.py main, its stdout parsed);
- the console: the metrics page's data (the Console function's source with METRICS_FACTS_DIR: DuckDB)
  and the page rendered from it;
- Athena: the console's Athena adapter against moto's Athena with the workgroup's named queries as
  infra/analytics.py creates them; each query string it sends is parsed as Trino SQL by sqlglot,
  transpiled and executed on DuckDB over the raw facts table only (no views: the statement must be
  self-contained), and the rows go back as Athena returns them (strings, a header row first).
All three must be equal, and equal to the values computed by hand."""

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import sqlglot
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends

from analytics.schema import FACT_COLUMNS
from analytics.sql import named_queries
from handoff.adapters.athena_metrics import AthenaMetrics
from handoff.adapters.console_auth import LOCAL_OPERATOR
from handoff.adapters.console_metrics_page import metrics_page
from handoff.adapters.console_pages import Page
from handoff.handlers import _process_metrics
from handoff.logic.process_metrics import REPORT_QUERIES, compute
from local import report as report_cli
from tests.unit.test_analytics_sql import hand_written_facts, write

ACCOUNT, REGION, WORKGROUP, DATABASE = "123456789012", "eu-west-1", "handoff-analytics", "handoff_analytics"
_ATHENA_TYPE = {bool: "boolean", int: "bigint", float: "double", Decimal: "decimal", str: "varchar"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("facts"), hand_written_facts())


@pytest.fixture(scope="module")
def from_report(folder: Path) -> dict:
    out = io.StringIO()
    code = report_cli.main([], folder, "none", True, None, read_events=None, input_error=ValueError,
                           prepare_stdout=lambda: out)
    assert code == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def from_console(folder: Path) -> tuple[dict, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("METRICS_FACTS_DIR", str(folder))
        return _process_metrics.current()


class DuckAthena:
    """Stands in for Athena's engine behind moto: runs the SQL a StartQueryExecution carries."""

    def __init__(self, folder: Path):
        self.db = duckdb.connect(":memory:")
        types = {"string": "VARCHAR", "int": "INTEGER", "double": "DOUBLE", "boolean": "BOOLEAN"}
        spec = "{" + ", ".join(f"'{n}': '{types[k]}'" for n, k in FACT_COLUMNS.items()) + "}"
        self.db.execute(f"CREATE TABLE facts_raw AS SELECT * FROM read_json(?, format = 'newline_delimited', "
                        f"columns = {spec})", [str(next(folder.rglob("*.jsonl")))])
        self.sent: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any], **_kwargs: Any) -> None:
        self.sent.append(params)
        [trino] = sqlglot.parse(params["QueryString"], read="trino", error_level=sqlglot.ErrorLevel.RAISE)
        cursor = self.db.execute(trino.sql(dialect="duckdb"))
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        kinds = [next((_ATHENA_TYPE[type(r[i])] for r in rows if r[i] is not None), "varchar") for i in range(len(names))]

        def cell(value: Any) -> dict[str, str]:
            if value is None:
                return {}
            return {"VarCharValue": str(value).lower() if isinstance(value, bool) else str(value)}

        athena_rows = [{"Data": [{"VarCharValue": n} for n in names]}]  # Athena's header row
        athena_rows += [{"Data": [cell(v) for v in row]} for row in rows]
        athena_backends[ACCOUNT][REGION].query_results_queue.append(QueryResults(
            rows=athena_rows, column_info=[{"Name": n, "Label": n, "Type": k} for n, k in zip(names, kinds, strict=True)]))


@pytest.fixture(scope="module")
def athena(folder: Path) -> Iterator[tuple[AthenaMetrics, DuckAthena, Any]]:
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(Name=WORKGROUP, Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://facts-bucket/athena-results/"}})
        for name, text in named_queries():  # as infra/analytics.py stores them
            client.create_named_query(Name=name, Database=DATABASE, QueryString=text, WorkGroup=WORKGROUP)
        engine = DuckAthena(folder)
        client.meta.events.register("before-parameter-build.athena.StartQueryExecution", engine)
        clock = [0.0]
        adapter = AthenaMetrics(client, workgroup=WORKGROUP, database=DATABASE, names=REPORT_QUERIES,
                                poll_seconds=0, clock=lambda: clock[0])
        yield adapter, engine, clock


@pytest.fixture(scope="module")
def from_athena(athena: tuple[AthenaMetrics, DuckAthena, Any]) -> dict:
    return compute(athena[0])


def test_report_console_and_athena_give_the_same_metrics(from_report: dict, from_console: tuple[dict, str],
                                                         from_athena: dict) -> None:
    console, source = from_console
    assert "DuckDB" in source
    assert from_report == console == from_athena


@pytest.mark.parametrize("way", ["report", "console", "athena"])
def test_each_way_gives_the_hand_computed_values(way: str, from_report: dict, from_console: tuple[dict, str],
                                                 from_athena: dict) -> None:
    metrics = {"report": from_report, "console": from_console[0], "athena": from_athena}[way]
    # A, D: activated first time; B: blocked, fixed in round 1, activated; C: blocked; E: approval timed out.
    assert metrics["handoffs"] == 5 and metrics["byStatus"] == {"ACTIVATED": 3, "BLOCKED": 2}
    assert metrics["firstTimeRight"] == 0.4
    # received -> activated: A 1000 s, B 2000 s, D 4000 s: nearest rank p50 = 2nd, p90 = 3rd.
    assert metrics["cycleTimeSeconds"]["receivedToActivated"] == {"p50": 2000.0, "p90": 4000.0}
    # closed-won -> activated: A 1000+3600, B 2000+7200, D 4000+600.
    assert metrics["cycleTimeSeconds"]["closedWonToActivated"] == {"p50": 4600.0, "p90": 9200.0}
    assert metrics["exceptionsByCode"] == {"MISSING_FIELD": 1, "INVALID_TAX_ID": 1, "NON_STANDARD_CLAUSE": 1,
                                           "APPROVAL_TIMEOUT": 1}
    # advisory: A, B (B blocked once) -> 1/2; erp: C, D, E (C and E blocked) -> 2/3.
    assert {line: v["exceptionRate"] for line, v in metrics["byServiceLine"].items()} == {
        "advisory": 0.5, "erp-implementation": 0.6667}
    assert {line: v["firstTimeRight"] for line, v in metrics["byServiceLine"].items()} == {
        "advisory": 0.5, "erp-implementation": 0.3333}
    # finance: asked at 100, approved at 400; legal: 50 -> 850; E's finance approval expired (not a duration).
    assert metrics["approvalSeconds"] == {"finance": {"count": 1, "p50": 300.0, "p90": 300.0},
                                          "legal": {"count": 1, "p50": 800.0, "p90": 800.0}}
    assert metrics["approvalsTimedOut"] == 1
    assert metrics["integrationFailures"]["billing"] == {"calls": 3, "failures": 1, "failureRate": 0.3333}


def test_athena_gets_one_self_contained_query_per_metric_in_the_workgroup(
        athena: tuple[AthenaMetrics, DuckAthena, Any], from_athena: dict) -> None:
    _adapter, engine, _clock = athena
    assert len(engine.sent) == len(REPORT_QUERIES)
    for sent in engine.sent:
        assert sent["WorkGroup"] == WORKGROUP
        assert sent["QueryExecutionContext"] == {"Database": DATABASE}
        assert sent["ResultReuseConfiguration"]["ResultReuseByAgeConfiguration"]["Enabled"] is True
        assert sent["QueryString"].startswith("WITH facts AS (")  # the views travel with the query


def test_athena_results_are_reused_for_a_while_then_run_again(athena: tuple[AthenaMetrics, DuckAthena, Any],
                                                              from_athena: dict) -> None:
    adapter, engine, clock = athena
    before = len(engine.sent)
    assert compute(adapter) == from_athena
    assert len(engine.sent) == before  # within max age: nothing started
    clock[0] += 301
    assert compute(adapter) == from_athena
    assert len(engine.sent) == before + len(REPORT_QUERIES)


def test_the_console_page_shows_the_same_figures(from_console: tuple[dict, str]) -> None:
    report, source = from_console
    html = metrics_page(Page(base="", operator=LOCAL_OPERATOR, csrf="x"), report, source,
                        datetime(2027, 1, 15, 9, tzinfo=UTC))
    for shown in ("<dt>Handoffs</dt><dd>5</dd>", "<dt>First-time-right</dt><dd>40.0 %</dd>",
                  "<dt>Exception rate</dt><dd>60.0 %</dd>", "<dt>Received to activated p50</dt><dd>33.3 min</dd>",
                  "<dt>Approvals timed out</dt><dd>1</dd>", "MISSING_FIELD", "finance: p50 5.0 min, p90 5.0 min, 1 measured",
                  "advisory: exception rate 50 %, first-time-right 50 %"):
        assert shown in html, shown
    line = metrics_page(Page(base="", operator=LOCAL_OPERATOR, csrf="x"), report, source,
                        datetime(2027, 1, 15, 9, tzinfo=UTC), "erp-implementation")
    assert "<dt>Handoffs</dt><dd>3</dd>" in line and "<dt>Blocked</dt><dd>2</dd>" in line
    assert '<th scope="row">advisory</th>' not in line
