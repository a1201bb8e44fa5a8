"""The single DynamoDB table (pk/sk) behind every ledger adapter: reads, all-or-nothing writes and
idempotency records. Items hold JSON-mode values (money as decimal strings) so nothing is rounded."""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_pages import every_item
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient

SYSTEM = "ledger"
# DynamoDB refuses more than 100 actions per transaction; one is kept for the idempotency record.
MAX_ACTIONS = 99
_TRANSIENT_CODES = frozenset(
    {
        "InternalServerError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
        "TransactionInProgressException",
    }
)

Clock = Callable[[], datetime]
Item = dict[str, Any]


class Contended(Exception):
    """A conditional write lost: the item exists already (another call got there first)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def derived_id(prefix: str, operation: str, idempotency_key: str, seq: int | None = None) -> str:
    """Deterministic ids: a repeat of the same call names the same items, so it cannot create twice."""
    digest = hashlib.sha256(f"{operation}\n{idempotency_key}".encode()).hexdigest()[:10].upper()
    return f"{prefix}-{digest}" if seq is None else f"{prefix}-{digest}-{seq:02d}"


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; integral ones (hours, seq) become int again."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def refused(message: str) -> Callable[[], Exception]:
    """The usual conflict: a unique item is held by another handoff; retrying will not help."""
    return lambda: IntegrationPermanent(f"{SYSTEM}: {message}", system=SYSTEM)


@contextmanager
def dynamo_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _TRANSIENT_CODES:
            raise IntegrationTransient(f"{SYSTEM}: DynamoDB {code}") from exc
        raise


class LedgerStore:
    """`dynamodb` is a boto3 DynamoDB service resource (its client speaks Python types)."""

    def __init__(self, table_name: str, dynamodb: Any = None, *, clock: Clock = utc_now):
        self._dynamodb = dynamodb if dynamodb is not None else boto3.resource("dynamodb")
        if not hasattr(self._dynamodb, "Table"):
            # The resource's client converts Python values (Decimal, str) both ways; a bare client does not.
            raise TypeError("LedgerStore needs a boto3 DynamoDB resource (boto3.resource('dynamodb')), not a client")
        self.table_name = table_name
        self.table = self._dynamodb.Table(table_name)
        self._client = self._dynamodb.meta.client
        self._clock = clock

    def now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()

    def get(self, pk: str, sk: str) -> Item | None:
        with dynamo_errors():
            item = self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return plain(item) if item else None

    def query(self, pk: str, sk_prefix: str) -> list[Item]:
        condition = Key("pk").eq(pk) & Key("sk").begins_with(sk_prefix)
        with dynamo_errors():
            return [plain(i) for i in every_item(self.table.query, KeyConditionExpression=condition, ConsistentRead=True)]

    # Transaction actions -------------------------------------------------------------------
    def put_new(self, item: Item) -> Item:
        return {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def put(self, item: Item) -> Item:
        return {"Put": {"TableName": self.table_name, "Item": item}}

    def put_if(self, item: Item, condition: str, names: dict, values: dict) -> Item:
        """Replace an item only while `condition` holds (optimistic concurrency on what was read)."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": item,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def update(self, pk: str, sk: str, expression: str, condition: str, names: dict, values: dict) -> Item:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"pk": pk, "sk": sk},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def transact(self, actions: list[Item]) -> None:
        if len(actions) > MAX_ACTIONS + 1:
            raise IntegrationPermanent(f"{SYSTEM}: {len(actions)} writes exceed one transaction", system=SYSTEM)
        try:
            with dynamo_errors():
                self._client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
            if "ConditionalCheckFailed" in codes:
                raise Contended(sorted(c for c in codes if c)) from exc
            # TransactionConflict: another transaction holds one of the items; retrying may pass.
            reasons = ", ".join(sorted(map(str, codes)))
            raise IntegrationTransient(f"{SYSTEM}: transaction cancelled ({reasons})") from exc

    # Idempotency -----------------------------------------------------------------------------
    def replay(self, operation: str, idempotency_key: str) -> Any | None:
        record = self.get(f"IDEMPOTENCY#{idempotency_key}", operation)
        return json.loads(record["result"]) if record else None

    def once(
        self,
        operation: str,
        idempotency_key: str,
        build: Callable[[], tuple[list[Item], Any]],
        conflict: Callable[[], Exception],
    ) -> Any:
        """Write `build()`'s actions with an idempotency record, all or nothing; return its JSON result.
        A repeat (even a concurrent one) returns the first call's result. When an action's condition
        fails and no record exists, the error `conflict()` makes is raised."""
        prior = self.replay(operation, idempotency_key)
        if prior is not None:
            return prior
        actions, result = build()
        try:
            self.transact([*actions, self.idempotency_record(operation, idempotency_key, result)])
        except Contended:
            prior = self.replay(operation, idempotency_key)
            if prior is None:
                raise conflict() from None
            return prior
        return result

    def idempotency_record(self, operation: str, idempotency_key: str, result: Any) -> Item:
        """The record as a transaction action: written once, with the entity items it stands for."""
        return self.put_new(
            {
                "pk": f"IDEMPOTENCY#{idempotency_key}",
                "sk": operation,
                "type": "idempotency",
                "result": json.dumps(result, separators=(",", ":")),
                "createdAt": self.now(),
            }
        )


class LedgerAdapter:
    """A port's adapter on the ledger: each reads and writes through the one LedgerStore."""

    def __init__(self, store: LedgerStore):
        self._store = store
