"""The metric queries on Athena (the MetricQueries port in AWS): the workgroup's named queries, which
infra/analytics.py makes from the files of analytics/ (the SQL DuckDB runs locally).

Each query runs self-contained: the views it reads ("view facts", "view handoffs", ...) go in
front of it as common table expressions, so nothing has to create views in the Glue catalog first
and the console needs read access only. All the queries a page needs start at once and are polled
together (Athena runs them in parallel: the page waits for the slowest, not the sum); Athena's
result reuse and a per-process cache keep a busy console from scanning the facts on every view."""

import re
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from graphlib import TopologicalSorter
from typing import Any

from handoff.ports.metrics import MetricsUnavailable

VIEW_PREFIX = "view "
REUSE_MINUTES = 15
_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)\s+AS\s+(.*)", re.IGNORECASE | re.DOTALL)
_WITH = re.compile(r"WITH\s+", re.IGNORECASE)
_INTEGER = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT = {"double", "float", "real"}
_RUNNING = {"QUEUED", "RUNNING"}


def _bare(sql: str) -> str:
    """Without whole-line comments and the trailing semicolon (a CTE body cannot end in one)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def view_bodies(views: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(view name, SELECT) from CREATE OR REPLACE VIEW statements, each after the views it reads."""
    bodies: dict[str, str] = {}
    for label, statement in views:
        found = _VIEW.match(_bare(statement))
        if found is None:
            raise ValueError(f"{label}: not a CREATE OR REPLACE VIEW statement")
        bodies[found.group(1)] = found.group(2)
    graph = {name: {other for other in bodies if other != name and re.search(rf"\b{other}\b", body)}
             for name, body in bodies.items()}
    return [(name, bodies[name]) for name in TopologicalSorter(graph).static_order()]


def self_contained(views: Iterable[tuple[str, str]], query: str) -> str:
    """The query with every view in front of it as a common table expression (Trino and DuckDB
    both accept a WITH inside a CTE, which the handoffs view has)."""
    ctes = ",\n".join(f"{name} AS (\n{body}\n)" for name, body in view_bodies(views))
    body = _bare(query)
    head = _WITH.match(body)
    if head:
        return f"WITH {ctes},\n{body[head.end():]}"
    return f"WITH {ctes}\n{body}"


def _value(kind: str, cell: dict[str, str]) -> Any:
    if "VarCharValue" not in cell:
        return None
    text = cell["VarCharValue"]
    kind = kind.lower()
    if kind in _INTEGER:
        return int(text)
    if kind in _FLOAT:
        return float(text)
    if kind.startswith("decimal"):
        return Decimal(text)
    if kind == "boolean":
        return text.lower() == "true"
    return text


class AthenaMetrics:
    """Runs the named queries of one workgroup; `query(name)` answers from the last run of all of
    `names`, run again once it is older than `max_age_seconds`."""

    def __init__(self, client: Any, *, workgroup: str, database: str, names: Iterable[str],
                 max_age_seconds: float = 300, poll_seconds: float = 0.5, timeout_seconds: float = 25,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._client, self._workgroup, self._database = client, workgroup, database
        self._names = tuple(names)
        self._max_age, self._poll, self._timeout = max_age_seconds, poll_seconds, timeout_seconds
        self._clock, self._sleep = clock, sleep
        self._statements: dict[str, str] | None = None
        self._results: dict[str, list[dict[str, Any]]] = {}
        self._at: float | None = None

    def query(self, name: str) -> list[dict[str, Any]]:
        if name not in self._names:
            raise MetricsUnavailable(f"{name} is not one of the queries this page runs")
        if self._at is None or self._clock() - self._at > self._max_age:
            self._results, self._at = self._run_all(), self._clock()
        return self._results[name]

    def statements(self) -> dict[str, str]:
        """The self-contained SQL of each name, from the workgroup's named queries (read once)."""
        if self._statements is None:
            named: dict[str, str] = {}
            for page in self._client.get_paginator("list_named_queries").paginate(WorkGroup=self._workgroup):
                for query_id in page["NamedQueryIds"]:
                    query = self._client.get_named_query(NamedQueryId=query_id)["NamedQuery"]
                    named[query["Name"]] = query["QueryString"]
            views = [(name, text) for name, text in named.items() if name.startswith(VIEW_PREFIX)]
            missing = [name for name in self._names if name not in named]
            if missing:
                raise MetricsUnavailable(f"workgroup {self._workgroup} has no named query {', '.join(missing)}")
            self._statements = {name: self_contained(views, named[name]) for name in self._names}
        return self._statements

    def _run_all(self) -> dict[str, list[dict[str, Any]]]:
        started = {name: self._client.start_query_execution(
            QueryString=sql, WorkGroup=self._workgroup, QueryExecutionContext={"Database": self._database},
            ResultReuseConfiguration={"ResultReuseByAgeConfiguration": {"Enabled": True,
                                                                        "MaxAgeInMinutes": REUSE_MINUTES}},
        )["QueryExecutionId"] for name, sql in self.statements().items()}
        pending, deadline = dict(started), self._clock() + self._timeout
        while pending:
            for name, execution_id in list(pending.items()):
                status = self._client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
                if status["State"] in _RUNNING:
                    continue
                if status["State"] != "SUCCEEDED":
                    raise MetricsUnavailable(f"query {name} {status['State']}: {status.get('StateChangeReason', '')}")
                del pending[name]
            if pending:
                if self._clock() > deadline:
                    for execution_id in pending.values():
                        self._client.stop_query_execution(QueryExecutionId=execution_id)
                    raise MetricsUnavailable(f"queries {', '.join(pending)} took over {self._timeout:g} s")
                self._sleep(self._poll)
        return {name: self._rows(execution_id) for name, execution_id in started.items()}

    def _rows(self, execution_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: list[tuple[str, str]] = []
        pages = self._client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
        for number, page in enumerate(pages):
            result = page["ResultSet"]
            if number == 0:
                columns = [(c["Name"], c["Type"]) for c in result["ResultSetMetadata"]["ColumnInfo"]]
            data = result["Rows"]
            if number == 0 and data and [c.get("VarCharValue") for c in data[0]["Data"]] == [n for n, _ in columns]:
                data = data[1:]  # a SELECT's first row is its column names
            for row in data:
                rows.append({name: _value(kind, cell) for (name, kind), cell in zip(columns, row["Data"], strict=True)})
        return rows
