"""Which CRM field feeds which contract field: a declarative mapping (config/crm/<crm>.yaml),
validated when loaded, applied to the records a CRM's REST API returned.

Pure: records in (a "record bag" keyed by object, e.g. {"Opportunity": {...}, "Contract": {...},
"OpportunityLineItem": [...]} or {"deal": {...}, "company": {...}}), the closed-won `detail` out.
Money is converted exactly in the currency's precision from a Decimal (JSON parsed with
parse_float=Decimal) or a string, never through a float. A required value the CRM lacks (or holds
in a form we cannot read) does not refuse the deal: it is reported in `missing` with the CRM field
to fill in, and a placeholder keeps the event valid, so the handoff is registered and BLOCKED and
the fix loop runs in the CRM (see handoff.domain.crm_fields)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from handoff.contracts.money import currency_exponent, is_currency

INTAKE_KEY = "crmIntake"  # the detail's extension naming the CRM fields (unknown fields are kept)

# Contract leaf paths the mapping must cover (the adapter fills opportunity.id and account.crmId).
REQUIRED: tuple[str, ...] = (
    "opportunity.name", "opportunity.stage", "opportunity.probability", "opportunity.amount",
    "opportunity.closeDate", "opportunity.owner.name", "opportunity.owner.email", "opportunity.serviceLine",
    "opportunity.region", "opportunity.deliveryModel",
    "account.legalName", "account.country", "account.billingAddress.line1", "account.billingAddress.city",
    "account.billingAddress.postalCode", "account.billingAddress.country", "account.billingContact.name",
    "account.billingContact.email",
    "contract.id", "contract.status", "contract.type", "contract.value", "contract.startDate",
    "contract.endDate", "contract.paymentTermsDays",
)
# Optional: left out when the CRM has nothing. Lists default to empty (the playbook's required
# fields decide whether that blocks, and the exception then names the CRM field too).
OPTIONAL: tuple[str, ...] = (
    "account.taxId", "account.erpCustomerId", "account.billingAddress.line2", "account.billingAddress.region",
    "contract.milestones", "contract.rateCard", "contract.notToExceed", "contract.monthlyFee", "contract.clauses",
    "contract.signedAt", "scope.summary", "scope.countries", "scope.phases", "staffing", "subcontractors",
)
LIST_DEFAULTS: dict[str, Any] = {"scope.summary": "", "scope.countries": [], "scope.phases": [], "staffing": []}
# What a contract type cannot go without (the contract model refuses the event otherwise).
TERMS_FOR_TYPE = {"milestone": "contract.milestones", "time_and_materials": "contract.rateCard",
                  "retainer": "contract.monthlyFee"}

FieldType = Literal["string", "email", "integer", "percent", "date", "datetime", "money", "json", "list", "lines"]


class MappingError(ValueError):
    """The mapping configuration is wrong (a deployment problem, never the deal's)."""


class FieldSpec(BaseModel):
    """One contract field: where it comes from in the CRM and how to read it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    source: str | None = Field(default=None, alias="from")  # "Object.Field" or "Object.Relationship.Field"
    type: FieldType = "string"
    currency: str | None = None  # money: path of the currency code; else the mapping's default currency
    values: dict[str, Any] | None = None  # picklist value -> contract value; other values are invalid
    default: Any = None  # a constant when the CRM field is empty
    scale: Decimal | None = None  # percent: multiply first (HubSpot keeps 0..1, Salesforce 0..100)
    line: Literal[1, 2] | None = None  # 1: first line of a multi-line street, 2: the rest
    fields: dict[str, "FieldSpec"] | None = None  # lines: each item's fields, relative to the item
    when: dict[str, str] | None = None  # only when other contract fields have these values

    @model_validator(mode="after")
    def _complete(self) -> "FieldSpec":
        if self.source is None and self.default is None:
            raise ValueError("needs `from` (the CRM field) or a `default`")
        if self.type == "lines" and not self.fields:
            raise ValueError("type `lines` needs `fields`")
        return self


class CrmMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    crm: Literal["salesforce", "hubspot"]
    label: str  # how people call the CRM: "Salesforce", "HubSpot"
    main_object: str = Field(alias="mainObject")  # "Opportunity", "deal"
    default_currency: str = Field(alias="defaultCurrency")
    fields: dict[str, FieldSpec]
    placeholders: dict[str, Any] = Field(default_factory=dict)
    # Our own write-back fields: never watched, so writing them back triggers no intake.
    writeback: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _covers_contract(self) -> "CrmMapping":
        unknown = sorted(set(self.fields) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise ValueError(f"unknown contract fields {unknown}")
        uncovered = [p for p in REQUIRED if p not in self.fields]
        if uncovered:
            raise ValueError(f"no mapping for required contract fields {uncovered}")
        if not is_currency(self.default_currency):
            raise ValueError(f"defaultCurrency {self.default_currency!r} is not an ISO 4217 currency")
        literal = ("opportunity.region", "opportunity.deliveryModel", "contract.status", "contract.type")
        lacking = [p for p in literal if p not in self.placeholders]
        if lacking:
            raise ValueError(f"placeholders needed for {lacking} (used only while a blocked deal lacks them)")
        return self

    def watched_fields(self) -> set[str]:
        """Fields of the main object the mapping reads: a change to any other (our write-backs
        included) starts no intake."""
        prefix = f"{self.main_object}."
        found = {s.removeprefix(prefix).split(".")[0] for s in _sources(self.fields.values()) if s.startswith(prefix)}
        return found - set(self.writeback.values())

    def describe(self, source: str | None) -> str:
        """A CRM field as its admin finds it: "Service_Line__c on the Opportunity" (Salesforce API
        names), "the deal property service_line" (HubSpot internal names)."""
        if not source:
            return "(no field)"
        parts = source.split(".")
        if len(parts) == 1:
            return f"the {self.main_object}'s {source} records"
        *objects, name = parts
        if self.crm == "hubspot":
            if objects == ["owner"]:
                return f"the deal owner's {name}"
            return f"the {objects[-1].rstrip('s')} property {name}"
        owner = objects[0] if len(objects) == 1 else f"{objects[0]}'s {' '.join(objects[1:])}"
        return f"{name} on the {owner}"

    def crm_field(self, path: str) -> str | None:
        """The CRM field that feeds a contract path (or its nearest mapped parent)."""
        parts = path.replace("[", ".[").split(".")
        while parts:
            spec = self.fields.get(".".join(p for p in parts if not p.startswith("[")))
            if spec is not None and spec.source:
                return spec.source
            parts.pop()
        return None


def _sources(specs: Any) -> Iterator[str]:
    for spec in specs:
        if spec.source:
            yield spec.source
        if spec.currency:
            yield spec.currency


@dataclass
class Missing:
    field: str  # contract path
    crm_field: str | None
    problem: str  # what is wrong, in words


@dataclass
class Mapped:
    detail: dict[str, Any]
    missing: list[Missing] = field(default_factory=list)


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


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, dict)) and not value)


def _decimal(value: Any) -> Decimal:
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
    number = _decimal(value)
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    exact = number.quantize(exponent)
    if exact != number:
        raise InvalidValue(f"{number} has more decimals than {currency} allows")
    return {"value": format(exact, "f"), "currency": currency}


def _date(value: Any) -> str:
    text = str(value).strip()
    if text.isdigit():  # HubSpot date properties: epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC).date().isoformat()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise InvalidValue(f"{text!r} is not a date") from None


def _datetime(value: Any) -> str:
    text = str(value).strip()
    try:
        moment = datetime.fromtimestamp(int(text) / 1000, UTC) if text.isdigit() else datetime.fromisoformat(
            text.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        raise InvalidValue(f"{text!r} is not a timestamp") from None
    if moment.tzinfo is None:
        raise InvalidValue(f"{text!r} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _integer(value: Any, scale: Decimal | None = None) -> int:
    number = _decimal(value) * (scale or 1)
    if number != number.to_integral_value():
        raise InvalidValue(f"{value} is not a whole number")
    return int(number)


def _exact_json(value: Any) -> Any:
    """Decimals (from parse_float=Decimal) become exact decimal strings, as the contract wants money."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return [_exact_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _exact_json(v) for k, v in value.items()}
    return value


def _json(value: Any) -> Any:
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=Decimal)
        except ValueError as exc:
            raise InvalidValue(f"is not valid JSON ({exc})") from None
    return _exact_json(value)


class Mapper:
    def __init__(self, mapping: CrmMapping):
        self.mapping = mapping

    def map(self, records: dict[str, Any], *, identity: dict[str, Any], occurred_at: datetime) -> Mapped:
        """`identity`: what the adapter knows for sure (opportunity.id, account.crmId, eventId...)."""
        values: dict[str, Any] = {}
        missing: list[Missing] = []
        ordered = sorted(self.mapping.fields.items(), key=lambda item: item[1].when is not None)
        for path, spec in ordered:
            if spec.when and any(values.get(k) != v for k, v in spec.when.items()):
                continue
            try:
                value = self._value(records, spec, path)
            except InvalidValue as exc:
                missing.append(Missing(path, spec.source, str(exc)))
                continue
            if value is None:
                if path in REQUIRED:
                    missing.append(Missing(path, spec.source, "is empty"))
                continue
            values[path] = value
        self._conditional_terms(values, missing)
        for gap in missing:
            values[gap.field] = self._placeholder(gap.field, values, occurred_at)
        for path, default in LIST_DEFAULTS.items():
            values.setdefault(path, default)
        detail = _nest({**values, **identity})
        return Mapped(detail, missing)

    def _conditional_terms(self, values: dict[str, Any], missing: list[Missing]) -> None:
        needed = TERMS_FOR_TYPE.get(values.get("contract.type", ""))
        if needed and _empty(values.get(needed)) and all(m.field != needed for m in missing):
            spec = self.mapping.fields.get(needed)
            source = spec.source if spec else None
            missing.append(Missing(needed, source, f"is empty, and a {values['contract.type']} contract needs it"))

    def _value(self, records: dict[str, Any], spec: FieldSpec, path: str) -> Any:
        raw = lookup(records, spec.source) if spec.source else None
        if _empty(raw):
            if spec.default is None:
                return None
            raw = spec.default
        if spec.type == "lines":
            return self._lines(raw, spec, records)
        if spec.values is not None and spec.type in ("string", "list"):
            return self._translate(raw, spec)
        return self._convert(raw, spec, records)

    def _translate(self, raw: Any, spec: FieldSpec) -> Any:
        assert spec.values is not None
        items = [p.strip() for p in str(raw).split(";")] if spec.type == "list" else [str(raw).strip()]
        unknown = [i for i in items if i not in spec.values]
        if unknown:
            raise InvalidValue(f"has {', '.join(map(repr, unknown))}, which is not one of {sorted(spec.values)}")
        translated = [spec.values[i] for i in items]
        return translated if spec.type == "list" else translated[0]

    def _convert(self, raw: Any, spec: FieldSpec, records: dict[str, Any]) -> Any:
        kind = spec.type
        if kind in ("string", "email"):
            text = str(raw).strip() if not isinstance(raw, Decimal) else format(raw, "f")
            if spec.line:
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                text = lines[0] if spec.line == 1 else ", ".join(lines[1:])
                return text or None
            return text
        if kind in ("integer", "percent"):
            return _integer(raw, spec.scale)
        if kind == "date":
            return _date(raw)
        if kind == "datetime":
            return _datetime(raw)
        if kind == "money":
            currency = lookup(records, spec.currency) if spec.currency else None
            return money(raw, str(currency or self.mapping.default_currency).strip().upper())
        if kind == "json":
            return _json(raw)
        if kind == "list":
            return [p.strip() for p in str(raw).split(";") if p.strip()] if isinstance(raw, str) else list(raw)
        raise InvalidValue(f"has an unknown type {kind}")  # pragma: no cover - FieldType is closed

    def _lines(self, raw: Any, spec: FieldSpec, records: dict[str, Any]) -> list[dict[str, Any]]:
        assert spec.fields is not None
        items = raw if isinstance(raw, list) else [raw]
        result = []
        for index, item in enumerate(items):
            scope = {**records, "item": item}
            entry: dict[str, Any] = {}
            for name, sub in spec.fields.items():
                relative = {"source": f"item.{sub.source}" if sub.source else None,
                            "currency": f"item.{sub.currency}" if sub.currency else None}
                value = self._value(scope, sub.model_copy(update=relative), name)
                if value is None:
                    raise InvalidValue(f"has line {index + 1} without {sub.source}")
                entry[name] = value
            result.append(_nest(entry))
        return result

    def _placeholder(self, path: str, values: dict[str, Any], occurred_at: datetime) -> Any:
        """A value that keeps the event valid while the deal waits for the CRM fix; readiness
        reports the field as missing and ignores what it would say about the placeholder."""
        if path in self.mapping.placeholders:
            return self.mapping.placeholders[path]
        spec = self.mapping.fields.get(path)
        kind = spec.type if spec else "string"
        currency = (values.get("contract.value") or values.get("opportunity.amount") or {}).get(
            "currency", self.mapping.default_currency)
        today = occurred_at.astimezone(UTC).date().isoformat()
        if path == "contract.milestones":
            return [{"id": "missing", "name": "(missing)", "amount": values.get("contract.value")
                     or money(0, currency), "dueDate": values.get("contract.endDate", today)}]
        if path == "contract.rateCard":
            return [{"role": "(missing)", "rate": money(0, currency), "unit": "hour"}]
        if kind == "money":
            return money(0, currency)
        if kind in ("integer", "percent"):
            return 0
        if kind == "date":
            return today
        if kind == "datetime":
            return occurred_at.isoformat()
        if kind == "email":
            return self.mapping.placeholders.get("email", "crm-owner-unknown@example.com")
        if kind in ("json", "list", "lines"):
            return []
        return "(missing)"


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested
