"""What a DynamoDB error means, decided in one place for every store.

- A failed condition (`ConditionalCheckFailedException`, or a cancelled transaction with a
  `ConditionalCheckFailed` reason) is an answer: another writer got there first.
- A transaction cancelled only by `TransactionConflict` (another transaction held an item),
  throttling (`ThrottlingException`, `ProvisionedThroughputExceededException`,
  `RequestLimitExceeded`), `TransactionInProgressException` and DynamoDB's 5xx are transient: the
  SDK has already retried them; what is left is raised as `Store.Transient`, which the state
  machine's retry policies retry. Neither is ever taken for a lost race.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from handoff.domain.errors import StoreTransient

TRANSIENT_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError", "ServiceUnavailable",
})


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _reasons(exc: ClientError) -> set[str]:
    return {str(r.get("Code")) for r in exc.response.get("CancellationReasons") or []} - {"None"}


def condition_failed(exc: ClientError) -> bool:
    """A failed condition, on its own or inside a cancelled transaction."""
    if _code(exc) == "ConditionalCheckFailedException":
        return True
    return _code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in _reasons(exc)


def transient(exc: ClientError) -> bool:
    """Retrying may pass: throttled, busy, or a transaction that met another (and no condition failed)."""
    if _code(exc) in TRANSIENT_CODES:
        return True
    if _code(exc) == "TransactionCanceledException":
        reasons = _reasons(exc)
        return bool(reasons) and reasons <= {"TransactionConflict", "ThrottlingError",
                                             "ProvisionedThroughputExceeded"}
    return False


@contextmanager
def transient_as_named() -> Iterator[None]:
    """Raise a transient DynamoDB error as `Store.Transient` (retried by the workflow); anything
    else passes through unchanged."""
    try:
        yield
    except ClientError as exc:
        if transient(exc):
            reasons = ", ".join(sorted(_reasons(exc))) or _code(exc)
            raise StoreTransient(f"DynamoDB {_code(exc)} ({reasons}); retrying may pass") from exc
        raise
