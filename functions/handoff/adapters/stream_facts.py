"""DynamoDB Streams records of the handoff table -> facts (handoff.domain.facts). The same code
reads a Lambda stream event (ApproximateCreationDateTime in epoch seconds) and records from
GetRecords (a datetime), so the Facts function and the embedded runtime agree."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from handoff.domain.facts import Fact, facts_from_change

_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def image(raw: dict | None) -> dict | None:
    """A stream image (DynamoDB JSON) as plain Python values."""
    if raw is None:
        return None
    return {key: _plain(_deserializer.deserialize(value)) for key, value in raw.items()}


def change_time(record: dict) -> datetime:
    value = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if value is None:
        raise ValueError(f"stream record {record.get('eventID')} has no ApproximateCreationDateTime")
    return datetime.fromtimestamp(float(value), UTC)


def facts_from_record(record: dict) -> list[Fact]:
    body = record["dynamodb"]
    return facts_from_change(image(body.get("OldImage")), image(body.get("NewImage")), at=change_time(record),
                             change_id=str(record["eventID"]), sequence=body.get("SequenceNumber", 0))
