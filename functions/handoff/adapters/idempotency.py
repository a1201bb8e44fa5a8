"""Once per handoff and step: Powertools idempotency on its DynamoDB table, keyed by handoff and step
(a retried or redriven execution reuses what exists)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from handoff.adapters import aws
from handoff.adapters.built_once import BuiltOncePer
from handoff.invocation import current_lambda_context
from handoff.settings import settings


def idempotency_key(handoff_id: str, step: str) -> str:
    return f"{handoff_id}:{step}"


# Keyed by table and function, because the layer keeps the function's name for its record keys (the
# local runtime runs several functions in one process, each with its own).
_persistence = BuiltOncePer[tuple[str, str], DynamoDBPersistenceLayer](
    lambda key: DynamoDBPersistenceLayer(table_name=key[0], boto3_client=aws.client("dynamodb"))
)


def persistence_layer() -> DynamoDBPersistenceLayer:
    """One Powertools persistence layer per process, on the shared boto3 client: building one
    builds a boto3 session and client (tens of ms on Lambda)."""
    return _persistence((settings().idempotency_table, settings().function_name))


def forget_persistence_layers() -> None:
    _persistence.forget()


def once(handoff_id: str, step: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` once per (handoff, step); a retry gets the stored result back."""
    persistence = persistence_layer()
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=7 * 24 * 3600)
    context = current_lambda_context()
    if context is not None:
        # Without it an invocation that times out leaves its record IN_PROGRESS for the whole
        # expiry (7 days) and every retry of the step fails as "already in progress".
        config.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def run(request: dict[str, str]) -> dict[str, Any]:
        return work()

    return run(request={"key": idempotency_key(handoff_id, step)})
