"""CRM values converted to what the contract takes, exactly: money in the currency's precision
from a Decimal (JSON parsed with parse_float=Decimal) or a string, never through a float; dates,
timestamps (HubSpot's epoch milliseconds too), whole numbers and JSON. A value that cannot be taken
raises InvalidValue, which the mapper reports as a field to fix."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from handoff.contracts.money import currency_exponent, is_currency


class InvalidValue(ValueError):
    """A CRM value the contract cannot take (reported as a field to fix, never raised to the caller of map)."""


def lookup(records: dict[str, Any], path: str) -> Any:
    """A dotted path into the record bag; None when any step is absent."""
    value: Any = records
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, dict)) and not value)


def as_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise InvalidValue("is a binary float; parse CRM JSON with parse_float=Decimal")
    if isinstance(value, bool):
        raise InvalidValue(f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise InvalidValue(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidValue(f"{value!r} is not a finite number")
    return number


def money(value: Any, currency: str) -> dict[str, str]:
    """Exact money in the currency's precision: 480000.0 EUR -> "480000.00"; 12.345 EUR is refused."""
    if not is_currency(currency):
        raise InvalidValue(f"currency {currency!r} is not an ISO 4217 code")
    number = as_decimal(value)
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    exact = number.quantize(exponent)
    if exact != number:
        raise InvalidValue(f"{number} has more decimals than {currency} allows")
    return {"value": format(exact, "f"), "currency": currency}


def as_date(value: Any) -> str:
    text = str(value).strip()
    if text.isdigit():  # HubSpot date properties: epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC).date().isoformat()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidValue(f"{text!r} is not a date") from None


def as_timestamp(value: Any) -> str:
    text = str(value).strip()
    try:
        moment = datetime.fromtimestamp(int(text) / 1000, UTC) if text.isdigit() else datetime.fromisoformat(
            text.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        raise InvalidValue(f"{text!r} is not a timestamp") from None
    if moment.tzinfo is None:
        raise InvalidValue(f"{text!r} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_integer(value: Any, scale: Decimal | None = None) -> int:
    number = as_decimal(value) * (scale or 1)
    if number != number.to_integral_value():
        raise InvalidValue(f"{value} is not a whole number")
    return int(number)


def exact_json(value: Any) -> Any:
    """Decimals (from parse_float=Decimal) become exact decimal strings, as the contract wants money."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return [exact_json(v) for v in value]
    if isinstance(value, dict):
        return {k: exact_json(v) for k, v in value.items()}
    return value


def as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=Decimal)
        except ValueError as exc:
            raise InvalidValue(f"is not valid JSON ({exc})") from None
    return exact_json(value)
