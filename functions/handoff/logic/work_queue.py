"""Use cases of the exceptions work queue: take the exceptions queue's messages in, take
dead-lettered messages in, and what people do with an item (claim, comment, resolve, dismiss),
including resolving it by acting on the handoff (resubmit with a correction through the bus)."""

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handoff.adapters.work_items_store import WorkItemStore
from handoff.contracts import ContractError, ExceptionEntry, parse_event
from handoff.domain import work_items as wi
from handoff.domain.errors import HandoffNotFound
from handoff.domain.fix_loop import Correction, Resubmission, plan_resubmission


class ExceptionMessage(BaseModel):
    """A message of the exceptions queue (handoff.adapters.exceptions_queue)."""

    model_config = ConfigDict(extra="ignore")
    handoffId: str = Field(min_length=1)
    status: str
    exceptions: list[ExceptionEntry]
    fixRound: int | None = Field(default=None, ge=0)
    approvalKind: str | None = None


class MessageInvalid(ValueError):
    """The message is not an exceptions-queue message; it stays on the queue and dead-letters."""


class HandoffActivated(BaseModel):
    """The bus's Handoff Activated event, routed to the exceptions queue by a rule."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    detail_type: str = Field(alias="detail-type", pattern="^Handoff Activated$")
    detail: dict[str, Any]


def parse_message(body: str) -> ExceptionMessage | HandoffActivated:
    try:
        return HandoffActivated.model_validate_json(body)
    except ValidationError:
        pass
    return _exceptions_message(body)


def _exceptions_message(body: str) -> ExceptionMessage:
    try:
        return ExceptionMessage.model_validate_json(body)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors())
        raise MessageInvalid(f"not an exceptions-queue message: {fields}") from None


@dataclass(frozen=True)
class HandoffFacts:
    """What the intake reads of the handoff to rank its problems."""

    opportunity_id: str
    title: str
    fix_round: int
    revenue_at_risk: Any
    kickoff: Any  # the contract's start date
    expired_approval_kind: str | None


def take_exceptions(message: ExceptionMessage, facts: HandoffFacts, items: WorkItemStore, now: datetime,
                    hours: dict[str, int]) -> list[wi.WorkItem]:
    """Open, update or reopen one item per reported exception; items of older rounds that this
    round no longer reports are resolved. Returns what changed (nothing for a repeated message)."""
    fix_round = facts.fix_round if message.fixRound is None else message.fixRound
    kickoff_in = (facts.kickoff - now.date()).days if facts.kickoff else None
    changed: list[wi.WorkItem] = []
    reported: set[str] = set()
    for entry in message.exceptions:
        raised = wi.Raised(handoff_id=message.handoffId, opportunity_id=facts.opportunity_id, title=facts.title,
                           exception=entry, fix_round=fix_round, revenue_at_risk=facts.revenue_at_risk,
                           kickoff_in_days=kickoff_in,
                           approval_kind=facts.expired_approval_kind if entry.code in wi.APPROVAL_CODES else None)
        key = wi.item_id(message.handoffId, entry.code, entry.field)
        reported.add(key)
        written = items.change(key, lambda current, r=raised: wi.raise_item(current, r, now, hours))
        if written:
            changed.append(written)
    for item in items.for_handoff(message.handoffId):
        if item.item_id not in reported and item.kind == "exception":
            written = items.change(item.item_id, lambda current: current and wi.superseded(current, fix_round, now))
            if written:
                changed.append(written)
    return changed


def take_activation(event: HandoffActivated, items: WorkItemStore, now: datetime) -> list[wi.WorkItem]:
    """Resolve what is still open about a handoff that went live."""
    handoff_id = str(event.detail.get("handoffId") or "")
    if not handoff_id:
        raise MessageInvalid("Handoff Activated without detail.handoffId")
    changed = []
    for item in items.for_handoff(handoff_id):
        written = items.change(item.item_id, lambda current: current and wi.handoff_activated(current, now))
        if written:
            changed.append(written)
    return changed


def take_dead_letter(items: WorkItemStore, queue: str, message_id: str, body: str, error: str, now: datetime,
                     hours: dict[str, int]) -> wi.WorkItem | None:
    """One platform item per dead-lettered message (by message id: seeing it again changes nothing)."""
    title = _dead_letter_title(body, queue, message_id)
    return items.change(wi.dead_letter_item_id(queue, message_id),
                        lambda current: None if current else wi.dead_letter_item(queue, message_id, body, error, now,
                                                                                 hours, title=title))


def dead_letters_redriven(items: WorkItemStore, queue: str, redriven: list[dict[str, str]], actor: str,
                          now: datetime) -> list[wi.WorkItem]:
    """Resolve the open items of the messages a redrive sent back (`redriven`: {"messageId", "to"})."""
    changed = []
    for message in redriven:
        written = items.change(wi.dead_letter_item_id(queue, message["messageId"]),
                               lambda current, to=message["to"]: current and wi.message_redriven(current, actor, now, to))
        if written:
            changed.append(written)
    return changed


def dead_letter_queues_emptied(items: WorkItemStore, empty_queues: set[str], now: datetime) -> list[wi.WorkItem]:
    """Resolve the open items of dead-letter queues that hold nothing any more."""
    changed = []
    for item in items.open_items(("platform",)):
        if item.kind == "dead-letter" and item.step in empty_queues:
            written = items.change(item.item_id, lambda current: current and wi.queue_emptied(current, now))
            if written:
                changed.append(written)
    return changed


def _dead_letter_title(body: str, queue: str, message_id: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return f"Message {message_id} in {queue}"
    if isinstance(data, dict):
        detail = data.get("detail") if isinstance(data.get("detail"), dict) else {}
        opportunity = detail.get("opportunity") if isinstance(detail.get("opportunity"), dict) else {}
        kind = data.get("detail-type") or ("exceptions message" if "handoffId" in data else "message")
        name = opportunity.get("name") or data.get("handoffId") or message_id
        return f"{kind}: {name}"[:200]
    return f"Message {message_id} in {queue}"


# --- what people do --------------------------------------------------------------------------------
class ItemNotFound(LookupError):
    pass


def _act(items: WorkItemStore, item_id: str, apply: Any) -> wi.WorkItem:
    current = items.item(item_id)
    if current is None:
        raise ItemNotFound(f"no work item {item_id}")
    written = items.change(item_id, lambda now_item: apply(now_item) if now_item else None)
    return written or current


def claim(items: WorkItemStore, item_id: str, actor: str, now: datetime) -> wi.WorkItem:
    return _act(items, item_id, lambda i: wi.claim(i, actor, now))


def comment(items: WorkItemStore, item_id: str, actor: str, text: str, now: datetime) -> wi.WorkItem:
    return _act(items, item_id, lambda i: wi.comment(i, actor, text, now))


def dismiss(items: WorkItemStore, item_id: str, actor: str, reason: str, now: datetime) -> wi.WorkItem:
    return _act(items, item_id, lambda i: wi.dismiss(i, actor, now, reason))


def resolve(items: WorkItemStore, item_id: str, actor: str, note: str, now: datetime) -> wi.WorkItem:
    text = note.strip() or "resolved"
    return _act(items, item_id, lambda i: wi.resolve(i, actor, now, text[:1000]))


class CorrectionInvalid(ValueError):
    def __init__(self, message: str, problems: list[dict[str, str]]):
        super().__init__(message)
        self.problems = problems


def set_path(detail: dict, path: str, value: Any) -> None:
    """Set `value` at a dotted path of the event's detail (`account.taxId`, `contract.milestones.2.amount`)."""
    parts = [p for p in path.split(".") if p]
    if not parts:
        raise CorrectionInvalid("field: name the field to correct", [{"field": "field", "message": "empty"}])
    node: Any = detail
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise CorrectionInvalid(f"field {path}: no item {part}", [{"field": path, "message": "no such item"}])
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise CorrectionInvalid(f"field {path}: {'.'.join(parts[:i])} is not an object",
                                    [{"field": path, "message": "not an object"}])


def corrected_event(stored: dict, event_id: str, *, field: str | None = None, value: str | None = None,
                    detail_json: str | None = None) -> dict:
    """The stored deal with the operator's correction: one field set to a value (JSON if it parses
    as an object, list, number or boolean, else the text), or a whole new `detail`; a new eventId."""
    event = copy.deepcopy(stored)
    if detail_json and detail_json.strip():
        try:
            detail = json.loads(detail_json)
        except ValueError as error:
            raise CorrectionInvalid(f"detail: not valid JSON ({error})", [{"field": "detail", "message": str(error)}]) \
                from None
        if not isinstance(detail, dict):
            raise CorrectionInvalid("detail: must be a JSON object", [{"field": "detail", "message": "not an object"}])
        event["detail"] = detail
    if field:
        set_path(event["detail"], field, _value(value or ""))
    event["detail"]["eventId"] = event_id
    return event


def _value(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in "[{" or stripped in ("true", "false") or _is_number(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return stripped
    return stripped


def _is_number(text: str) -> bool:
    # Amounts are strings in the contract ("55000.00"); only bare integers are sent as numbers.
    return text.isdigit() and len(text) < 16


def check_correction(event: dict) -> Correction:
    try:
        return Correction(parse_event(event), event)
    except ContractError as error:
        raise CorrectionInvalid(f"the corrected event does not meet the contract: {error}", error.problems) from None


def correction_event_id(handoff_id: str, fix_round: int) -> str:
    """One per handoff and round: a double-clicked correction is a duplicate, not a second round."""
    return f"console-{handoff_id}-{fix_round}"


def plan_correction(state: Any, stored: dict, *, field: str | None, value: str | None,
                    detail_json: str | None) -> Resubmission:
    event = corrected_event(stored, correction_event_id(state.handoff_id, state.rework + 1), field=field, value=value,
                            detail_json=detail_json)
    return plan_resubmission(state, stored, check_correction(event))


def require_handoff(item: wi.WorkItem) -> str:
    if not item.handoff_id:
        raise HandoffNotFound(f"work item {item.item_id} is not about a handoff")
    return item.handoff_id
