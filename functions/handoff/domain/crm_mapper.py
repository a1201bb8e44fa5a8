"""Applying a CRM mapping to the records a CRM's REST API returned. Pure: records in (a "record bag"
keyed by object, e.g. {"Opportunity": {...}, "Contract": {...}, "OpportunityLineItem": [...]} or
{"deal": {...}, "company": {...}}), the closed-won `detail` out. A required value the CRM lacks (or
holds in a form we cannot read) does not refuse the deal: it is reported in `missing` with the CRM
field to fill in, and a placeholder keeps the event valid, so the handoff is registered and BLOCKED
and the fix loop runs in the CRM (see handoff.domain.crm_fields)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from handoff.domain.crm_mapping import LIST_DEFAULTS, REQUIRED, TERMS_FOR_TYPE, CrmMapping, FieldSpec
from handoff.domain.crm_values import (
    InvalidValue,
    as_date,
    as_integer,
    as_json,
    as_timestamp,
    empty,
    lookup,
    money,
)


@dataclass
class Missing:
    field: str  # contract path
    crm_field: str | None
    problem: str  # what is wrong, in words


@dataclass
class Mapped:
    detail: dict[str, Any]
    missing: list[Missing] = field(default_factory=list)


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
        if needed and empty(values.get(needed)) and all(m.field != needed for m in missing):
            spec = self.mapping.fields.get(needed)
            source = spec.source if spec else None
            missing.append(Missing(needed, source, f"is empty, and a {values['contract.type']} contract needs it"))

    def _value(self, records: dict[str, Any], spec: FieldSpec, path: str) -> Any:
        raw = lookup(records, spec.source) if spec.source else None
        if empty(raw):
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
            return as_integer(raw, spec.scale)
        if kind == "date":
            return as_date(raw)
        if kind == "datetime":
            return as_timestamp(raw)
        if kind == "money":
            currency = lookup(records, spec.currency) if spec.currency else None
            return money(raw, str(currency or self.mapping.default_currency).strip().upper())
        if kind == "json":
            return as_json(raw)
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
