"""What the operators' JSON APIs (the handoff API, the recovery API) share: answers that are JSON and
never cached, an unexpected error answered 500 without detail (logged whole), and the Lambda entry
point around the Powertools resolver (correlation id from API Gateway, tracing, metrics)."""

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.observability import logger, metrics, tracer

HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body),
                    headers={**HEADERS, **(headers or {})})


def internal_error(api: str) -> Response:
    """For the resolver's catch-all handler (called while the exception is being handled)."""
    logger.exception(f"{api} request failed")
    return json_response(500, {"message": "Internal error."})


def entry_point(app: APIGatewayRestResolver) -> Callable[[dict, LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
