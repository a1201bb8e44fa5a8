"""Where the console's process metrics come from: DuckDB over fact files when METRICS_FACTS_DIR
names a folder (the local runtime: analytics/ and DuckDB are not in the Lambda bundle), else
the Athena workgroup's named queries (AWS), one adapter per process."""

import os
from functools import cache
from pathlib import Path
from typing import Any

from handoff.adapters import aws
from handoff.adapters.athena_metrics import AthenaMetrics
from handoff.config import setting
from handoff.logic.process_metrics import REPORT_QUERIES, compute
from handoff.ports.metrics import MetricsUnavailable


@cache
def _athena() -> AthenaMetrics:
    return AthenaMetrics(aws.client("athena"), workgroup=setting("ANALYTICS_WORKGROUP"),
                         database=setting("ANALYTICS_DATABASE"), names=REPORT_QUERIES)


def _local(folder: Path) -> dict[str, Any]:
    from analytics.engine import FactsDb, FactsUnreadable

    try:
        db = FactsDb(folder)
    except FactsUnreadable as error:
        raise MetricsUnavailable(str(error)) from None
    try:
        return compute(db)
    finally:
        db.close()


def current() -> tuple[dict[str, Any], str]:
    """The metrics (the report's JSON object) and where they were computed."""
    folder = os.environ.get("METRICS_FACTS_DIR", "")
    if folder:
        return _local(Path(folder)), "DuckDB over the local fact files"
    return compute(_athena()), "Athena (the analytics workgroup's named queries, refreshed every 5 minutes)"
