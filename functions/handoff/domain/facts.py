"""Facts: every change of a handoff as an immutable, versioned record for analytics.

Pure: `facts_from_change(old, new, ...)` reads one item of the handoff table before and after a
change (a DynamoDB Streams record with NEW_AND_OLD_IMAGES, deserialized) and says what happened:
received, round started, status changed, activated, step done, exception raised or resolved,
approval requested or decided, billing schedule set, assessed (margin, clause categories), deal
terms, system call outcome. Nothing is ever updated: a fix round adds facts, it replaces none.

A fact's id is derived from the change's id (the stream record's eventID) and what the fact is
about, so a redelivered stream record yields the same ids and the queries keep one copy
(analytics/views/facts.sql). Facts are flat (one table, every column nullable): the Glue table,
Firehose's JSON and DuckDB's reader share analytics/schema.py's FACT_COLUMNS."""

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

FACT_SCHEMA_VERSION = 1
Item = dict[str, Any]  # a table item or stream image, deserialized
DECIDED = {"APPROVED", "REJECTED", "EXPIRED"}
_ROUND = re.compile(r"^(?P<step>.+?) \(fix round (?P<round>\d+)\)$")



class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fact_id: str
    schema_version: int = FACT_SCHEMA_VERSION
    seq: str  # orders facts: the stream's sequence number, zero-padded to sort as text
    kind: str
    synthetic: bool = False
    handoff_id: str
    opportunity_id: str | None = None
    occurred_at: str
    ts: float
    dt: str
    fix_round: int | None = None
    status: str | None = None
    previous_status: str | None = None
    step: str | None = None
    service_line: str | None = None
    region: str | None = None
    code: str | None = None
    severity: str | None = None
    field: str | None = None
    owner_group: str | None = None
    priority: int | None = None
    approval_id: str | None = None
    approval_kind: str | None = None
    decision: str | None = None
    system: str | None = None
    operation: str | None = None
    outcome: str | None = None
    error: str | None = None
    duration_seconds: float | None = None
    contract_type: str | None = None
    amount: str | None = None
    currency: str | None = None
    lines_total: str | None = None
    close_date: str | None = None
    closed_ts: float | None = None
    payment_terms_days: int | None = None
    clauses: str | None = None
    subcontractors: int | None = None
    countries: str | None = None
    account_country: str | None = None
    customer_new: bool | None = None
    margin: float | None = None
    margin_floor: float | None = None
    detail: str | None = None

    def to_row(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def fact_id(change_id: str, kind: str, *about: object) -> str:
    return hashlib.sha256("|".join([change_id, kind, *map(str, about)]).encode()).hexdigest()[:32]


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except InvalidOperation:
        return None


class _Maker:
    """Builds the facts of one change: shared id, handoff and time."""

    def __init__(self, change_id: str, sequence: str, handoff_id: str, at: datetime, synthetic: bool):
        self.change_id, self.handoff_id, self.at, self.synthetic = change_id, handoff_id, at, synthetic
        self.sequence = sequence

    def __call__(self, kind: str, *about: object, at: datetime | None = None, **fields: Any) -> Fact:
        when = (at or self.at).astimezone(UTC)
        return Fact(fact_id=fact_id(self.change_id, kind, *about), seq=self.sequence, kind=kind, synthetic=self.synthetic,
                    handoff_id=self.handoff_id, occurred_at=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    ts=round(when.timestamp(), 3), dt=when.date().isoformat(), **fields)


def _handoff_id(item: Item) -> str | None:
    pk = str(item.get("pk", ""))
    return pk.removeprefix("HANDOFF#") if pk.startswith("HANDOFF#") else None


def sequence_text(number: int | str) -> str:
    return str(number).zfill(40)


def facts_from_change(old: Item | None, new: Item | None, *, at: datetime, change_id: str,
                      sequence: int | str = 0) -> list[Fact]:
    """The facts one change of a handoff-table item states. `at` is when the change happened (the
    stream record's time), used where the item carries no time of its own; `change_id` identifies
    the change (the same on redelivery); `sequence` orders changes (the stream's sequence number)."""
    if at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    item: Item = new or old or {}
    handoff_id = _handoff_id(item)
    sk = str(item.get("sk", ""))
    if handoff_id is None:
        return []
    synthetic = bool(item.get("synthetic", False))
    make = _Maker(change_id, sequence_text(sequence), handoff_id, at, synthetic)
    if sk == "RECORD":
        return _record(make, old, new)
    if sk == "DEAL" and new is not None:
        return _deal(make, new)
    if sk.startswith("STEP#") and new is not None:
        return _step(make, old, new)
    if sk.startswith("EXCEPTIONS#"):
        return _exceptions(make, old, new)
    if sk.startswith("APPROVAL#") and new is not None:
        return _approval(make, old, new)
    if sk.startswith("CALL#") and new is not None and old is None:
        return _call(make, new)
    return []


def _record(make: _Maker, old: Item | None, new: Item | None) -> list[Fact]:
    if new is None:
        return []
    facts: list[Fact] = []
    dims = {"opportunity_id": new.get("opportunityId"), "service_line": new.get("serviceLine"),
            "region": new.get("region")}
    status, before = new.get("status"), (old or {}).get("status")
    rework, rework_before = int(new.get("rework", 0)), int((old or {}).get("rework", 0))
    if old is None:
        facts.append(make("received", at=parse_time(new["receivedAt"]), fix_round=0, status=status, **dims))
    if old is not None and rework > rework_before:
        facts.append(make("round_started", rework, fix_round=rework, status=status, **dims))
    if old is not None and status != before:
        facts.append(make("status_changed", status, fix_round=rework, status=status, previous_status=before, **dims))
        if status == "ACTIVATED" and new.get("activatedAt"):
            activated, received = parse_time(new["activatedAt"]), parse_time(new["receivedAt"])
            facts.append(make("activated", at=activated, fix_round=rework, status=status,
                              duration_seconds=round((activated - received).total_seconds(), 3), **dims))
    schedule, schedule_before = new.get("billingSchedule"), (old or {}).get("billingSchedule")
    if schedule and schedule != schedule_before:
        facts.append(_billing(make, schedule, corrected=bool(schedule_before), after_activation=before == "ACTIVATED",
                              rework=rework, dims=dims))
    margin = new.get("estimatedMargin")
    assessed = (margin, new.get("nonStandardClauses"), new.get("marginFloor"))
    if any(v is not None for v in assessed) and assessed != (
            (old or {}).get("estimatedMargin"), (old or {}).get("nonStandardClauses"), (old or {}).get("marginFloor")):
        facts.append(make("assessed", rework, fix_round=rework, margin=_num(margin), margin_floor=_num(new.get("marginFloor")),
                          clauses=new.get("nonStandardClauses") or None, **dims))
    return facts


def _billing(make: _Maker, schedule_json: str, *, corrected: bool, after_activation: bool, rework: int,
             dims: Item) -> Fact:
    schedule = json.loads(schedule_json) if isinstance(schedule_json, str) else schedule_json
    lines = sum((Decimal(str(line["amount"])) for line in schedule.get("lines", [])), start=Decimal(0))
    outcome = "CORRECTED_AFTER_ACTIVATION" if after_activation else ("CORRECTED" if corrected else "SET")
    return make("billing_schedule", schedule_json, fix_round=rework, contract_type=schedule.get("contractType"),
                amount=str(schedule.get("total")), currency=schedule.get("currency"), lines_total=str(lines),
                outcome=outcome, **dims)


def _deal(make: _Maker, new: Item) -> list[Fact]:
    event = json.loads(new["event"])
    detail = event.get("detail", {})
    opportunity, account, contract = (detail.get(k, {}) or {} for k in ("opportunity", "account", "contract"))
    value = contract.get("value") or opportunity.get("amount") or {}
    occurred = detail.get("occurredAt")
    closed_ts = round(parse_time(occurred).timestamp(), 3) if occurred else None
    clause_titles = sorted({str(c.get("title", "")).strip() for c in contract.get("clauses") or [] if c.get("title")})
    return [make("deal", detail.get("eventId"), opportunity_id=opportunity.get("id"),
                 service_line=opportunity.get("serviceLine"), region=opportunity.get("region"),
                 contract_type=contract.get("type"), amount=value.get("value"), currency=value.get("currency"),
                 close_date=opportunity.get("closeDate"), closed_ts=closed_ts,
                 payment_terms_days=contract.get("paymentTermsDays"),
                 subcontractors=len(detail.get("subcontractors") or []),
                 countries=",".join(sorted(set((detail.get("scope") or {}).get("countries") or []))) or None,
                 account_country=account.get("country"),
                 customer_new=not account.get("erpCustomerId"),
                 detail="; ".join(clause_titles) or None)]


def _step(make: _Maker, old: Item | None, new: Item) -> list[Fact]:
    if old is not None and old.get("status") == new.get("status") and old.get("at") == new.get("at"):
        return []
    name = str(new.get("step", ""))
    match = _ROUND.match(name)
    step, fix_round = (match["step"], int(match["round"])) if match else (name, 0)
    at = parse_time(new["at"])
    return [make("step", name, new.get("at"), at=at, step=step, fix_round=fix_round, status=new.get("status"),
                 detail=new.get("detail"))]


def _exception_set(item: Item | None) -> dict[tuple[str, str, str], Item]:
    if not item or not item.get("exceptions"):
        return {}
    entries = json.loads(item["exceptions"])
    return {(e.get("code"), e.get("field") or "", e.get("step") or ""): e for e in entries}


def _exceptions(make: _Maker, old: Item | None, new: Item | None) -> list[Fact]:
    before, after = _exception_set(old), _exception_set(new)
    facts = []
    for kind, entries in (("exception_raised", {k: v for k, v in after.items() if k not in before}),
                          ("exception_resolved", {k: v for k, v in before.items() if k not in after})):
        for key, entry in sorted(entries.items()):
            facts.append(make(kind, *key, step=entry.get("step"), code=entry.get("code"),
                              severity=entry.get("severity"), field=entry.get("field"),
                              owner_group=entry.get("ownerGroup"), priority=entry.get("priority"),
                              detail=entry.get("message")))
    return facts


def _approval(make: _Maker, old: Item | None, new: Item) -> list[Fact]:
    common = {"approval_id": new.get("approvalId"), "approval_kind": new.get("kind")}
    facts = []
    if old is None:
        facts.append(make("approval_requested", new.get("approvalId"), at=parse_time(new["createdAt"]),
                          decision="PENDING", detail=new.get("escalatedFrom"), **common))
    status, before = new.get("status"), (old or {}).get("status", "PENDING")
    if status in DECIDED and before not in DECIDED:
        decided = parse_time(new["decidedAt"]) if new.get("decidedAt") else make.at
        facts.append(make("approval_decided", new.get("approvalId"), status, at=decided, decision=status,
                          duration_seconds=round((decided - parse_time(new["createdAt"])).total_seconds(), 3),
                          **common))
    elif status == "ESCALATED" and before != "ESCALATED":
        facts.append(make("approval_escalated", new.get("approvalId"), decision=status, **common))
    return facts


def _call(make: _Maker, new: Item) -> list[Fact]:
    return [make("system_call", new.get("sk"), at=parse_time(new["at"]), step=new.get("step"),
                 system=new.get("system"), operation=new.get("operation"), outcome=new.get("outcome"),
                 error=new.get("error"), duration_seconds=_num(new.get("durationSeconds")))]
