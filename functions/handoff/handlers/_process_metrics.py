"""Where the console's process metrics come from: DuckDB over fact files when the local runtime
names a folder of them (METRICS_FACTS_DIR: analytics/ and DuckDB are not in the Lambda bundle),
else the Athena workgroup's named queries (AWS), one adapter per process."""

from functools import cache
from pathlib import Path
from typing import Any

from handoff.adapters import aws
from handoff.adapters.athena_metrics import AthenaMetrics
from handoff.logic.process_metrics import REPORT_QUERIES, compute
from handoff.ports.metrics import MetricsUnavailable
from handoff.settings import settings


@cache
def _athena(workgroup: str, database: str) -> AthenaMetrics:
    return AthenaMetrics(aws.client("athena"), workgroup=workgroup, database=database, names=REPORT_QUERIES)


def _local(folder: Path) -> dict[str, Any]:
    from analytics.engine import FactsDb, FactsUnreadable

    try:
        with FactsDb(folder) as db:
            return compute(db)
    except FactsUnreadable as error:
        raise MetricsUnavailable(str(error)) from None


def current() -> tuple[dict[str, Any], str]:
    """The metrics (the report's JSON object) and where they were computed."""
    config = settings()
    if config.metrics_facts_dir:
        return _local(Path(config.metrics_facts_dir)), "DuckDB over the local fact files"
    return (compute(_athena(config.analytics_workgroup, config.analytics_database)),
            "Athena (the analytics workgroup's named queries, refreshed every 5 minutes)")
