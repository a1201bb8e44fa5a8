"""What the process metrics need from an analytics engine: the rows of one named metric query
(analytics/queries/<name>.sql over the views of analytics/views). DuckDB over the local fact files
answers locally (analytics/engine.py), Athena over the facts in S3 in AWS
(handoff/adapters/athena_metrics.py): the same SQL, so the same numbers."""

from typing import Any, Protocol


class MetricQueries(Protocol):
    def query(self, name: str) -> list[dict[str, Any]]:
        """The rows of the named query, one dict per row keyed by column name; numbers as int,
        float or Decimal, NULL as None."""
        ...


class MetricsUnavailable(Exception):
    """The engine could not answer: a named query missing, a query failed or took too long, the
    fact files unreadable."""
