"""The current invocation's Lambda context, for code below the handler that needs the remaining
time (Powertools idempotency expires an in-progress record when the invocation would have timed
out, so a retry is not locked out). Kept apart from handoff.observability: importing this creates no Powertools
Logger or Metrics, whose settings are read from the environment at import."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aws_lambda_powertools.utilities.typing import LambdaContext

_lambda_context: ContextVar[LambdaContext | None] = ContextVar("lambda_context", default=None)


def current_lambda_context() -> LambdaContext | None:
    return _lambda_context.get()


@contextmanager
def invocation(context: LambdaContext) -> Iterator[None]:
    token = _lambda_context.set(context)
    try:
        yield
    finally:
        _lambda_context.reset(token)
