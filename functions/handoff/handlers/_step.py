"""How a workflow step is a Lambda handler: Powertools context, tracing and metrics, the input parsed
into its model, the result returned as JSON, a transient DynamoDB error raised by its name."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from handoff.adapters.dynamodb_errors import transient_as_named
from handoff.invocation import invocation
from handoff.observability import logger, metrics, tracer

Model = TypeVar("Model", bound=BaseModel)


def step_handler(
    model: type[Model] | None,
) -> Callable[[Callable[[Any], Any]], Callable[[dict, LambdaContext], Any]]:
    """Wrap a step: Powertools context, tracing and metrics; input parsed into `model` (or passed
    raw when None); pydantic results returned as JSON-ready dicts; a transient DynamoDB error
    (throttled, transaction conflict) raised as `Store.Transient` for the workflow to retry."""

    def decorate(step: Callable[[Model], Any]) -> Callable[[dict, LambdaContext], Any]:
        @logger.inject_lambda_context(clear_state=True)
        @tracer.capture_lambda_handler(capture_response=False)
        @metrics.log_metrics
        @wraps(step)
        def handler(event: dict, context: LambdaContext) -> Any:
            with invocation(context), transient_as_named():
                result = step(event if model is None else parse(event=event, model=model))
            if isinstance(result, BaseModel):
                return result.model_dump(mode="json", by_alias=True)
            return result

        return handler

    return decorate


class HandoffRef(BaseModel):
    """What the state machine passes to a step: the id; the deal and records are in the table."""

    handoffId: str
