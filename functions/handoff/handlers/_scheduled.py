"""A handler on an EventBridge schedule: Powertools context, tracing and metrics, and "now" taken from
the scheduled event's `time`, so tests and the local runtime drive the clock."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.observability import logger, metrics, tracer


def event_time(event: dict) -> datetime:
    raw = event.get("time")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC) if raw else datetime.now(UTC)


def scheduled(run: Callable[[datetime], dict[str, Any]]) -> Callable[[dict, LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    @wraps(run)
    def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
        return run(event_time(event))

    return handler
