"""The exceptions work queue: who owns a problem, how urgent it is, by when, and what people did
about it. Pure: items are immutable pydantic models; every transition returns a new item with one
more history entry (history and comments only ever grow) or raises a named error.

An item's id is derived from the handoff and the problem (code and field), so the same exception
reported again, by a redelivered message or by a later fix round, lands on the same item: the
intake updates an open item and reopens a closed one only for a newer round."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from handoff.contracts import ExceptionEntry, Money
from handoff.domain.playbooks import ExceptionPolicy
from handoff.domain.priority import SEVERITY_BASE, SEVERITY_CAP, revenue_points

OwnerGroup = Literal["legal", "finance", "procurement", "sales-operations", "data-steward", "platform"]
OWNER_GROUPS: tuple[OwnerGroup, ...] = ("legal", "finance", "procurement", "sales-operations", "data-steward",
                                        "platform")
GROUP_LABELS: dict[str, str] = {"legal": "Legal", "finance": "Finance", "procurement": "Procurement",
                                "sales-operations": "Sales operations", "data-steward": "Data steward",
                                "platform": "Platform"}
State = Literal["open", "claimed", "resolved", "dismissed"]
OPEN_STATES: frozenset[str] = frozenset({"open", "claimed"})
Kind = Literal["exception", "dead-letter"]

# Who fixes what. The deal's data belongs to sales operations (they correct the CRM), the contract
# to legal, money terms to finance, vendors to procurement, customer master data to the data
# steward; the machinery (playbooks, systems of record down, undeliverable events) to the platform.
OWNER_BY_CODE: dict[str, OwnerGroup] = {
    "MISSING_FIELD": "sales-operations",
    "AMOUNT_MISMATCH": "sales-operations",
    "DATES_INCOHERENT": "sales-operations",
    "SCOPE_MISMATCH": "sales-operations",
    "CONTRACT_NOT_SIGNED": "legal",
    "NON_STANDARD_CLAUSE": "legal",
    "MILESTONES_MISMATCH": "finance",
    "CURRENCY_MISMATCH": "finance",
    "RATE_CARD_GAP": "finance",
    "INVALID_TAX_ID": "data-steward",
    "MASTER_DATA_CONFLICT": "data-steward",
    "UNKNOWN_VENDOR": "procurement",
    "UNKNOWN_PLAYBOOK": "platform",
    "INTEGRATION_FAILURE": "platform",
    "PROCESSING_FAILURE": "platform",
    "DEAD_LETTER": "platform",
}
# An approval that timed out or bounced goes back to the function that had to approve it.
OWNER_BY_APPROVAL_KIND: dict[str, OwnerGroup] = {"legal": "legal", "finance": "finance",
                                                 "procurement": "procurement", "compliance": "legal"}
APPROVAL_CODES = frozenset({"APPROVAL_TIMEOUT", "APPROVAL_BOUNCED"})

# Hours to act, per group, from when the item was raised. Deployments override with a JSON object
# (WORK_QUEUE_SLA_HOURS); unlisted groups keep these.
DEFAULT_SLA_HOURS: dict[str, int] = {"legal": 48, "finance": 24, "procurement": 48, "sales-operations": 8,
                                     "data-steward": 24, "platform": 4}
# Customer risk: a kickoff this close (or already past) adds to the revenue score.
KICKOFF_RISK_DAYS = 14
KICKOFF_RISK_POINTS = 100


class WorkItemError(Exception):
    """A transition the item's state does not allow (the message says which and why)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class HistoryEntry(_Model):
    at: AwareDatetime
    actor: str
    action: str
    detail: str = ""


class Comment(_Model):
    at: AwareDatetime
    author: str
    text: str


class WorkItem(_Model):
    item_id: str
    kind: Kind = "exception"
    handoff_id: str | None = None
    opportunity_id: str | None = None
    title: str = ""  # the deal's or the event's name, for lists and digests
    code: str
    field: str | None = None
    step: str | None = None
    message: str
    severity: str = "BLOCKING"
    owner_group: OwnerGroup
    priority: int
    fix_round: int = 0
    state: State = "open"
    assignee: str | None = None
    created_at: AwareDatetime
    due_at: AwareDatetime
    updated_at: AwareDatetime
    resolution: str | None = None
    payload: str | None = None  # a dead-lettered message's body, kept whole
    comments: tuple[Comment, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.due_at


def item_id(handoff_id: str, code: str, field: str | None) -> str:
    """Stable per handoff and problem: `wi-` and 20 hex digits."""
    digest = hashlib.sha256(f"{handoff_id}|{code}|{field or ''}".encode()).hexdigest()[:20]
    return f"wi-{digest}"


def dead_letter_item_id(queue: str, message_id: str) -> str:
    return "wi-" + hashlib.sha256(f"dlq|{queue}|{message_id}".encode()).hexdigest()[:20]


def owner_group(code: str, *, approval_kind: str | None = None) -> OwnerGroup:
    """The group that owns an exception code (approval problems: the approving function's group)."""
    if code in APPROVAL_CODES:
        return OWNER_BY_APPROVAL_KIND.get(approval_kind or "", "sales-operations")
    return OWNER_BY_CODE.get(code, "platform")


def sla_hours(overrides: dict[str, int] | None = None) -> dict[str, int]:
    merged = {**DEFAULT_SLA_HOURS, **(overrides or {})}
    unknown = sorted(set(merged) - set(OWNER_GROUPS))
    if unknown:
        raise ValueError(f"WORK_QUEUE_SLA_HOURS: unknown owner group(s) {', '.join(unknown)}")
    if any(int(h) <= 0 for h in merged.values()):
        raise ValueError("WORK_QUEUE_SLA_HOURS: hours must be positive")
    return {k: int(v) for k, v in merged.items()}


def due_at(group: str, raised_at: datetime, hours: dict[str, int]) -> datetime:
    return raised_at.astimezone(UTC) + timedelta(hours=hours[group])


def priority_score(severity: str, revenue_at_risk: Money | None, *, kickoff_in_days: int | None = None,
                   policy: ExceptionPolicy | None = None) -> int:
    """0..1000 as in handoff.domain.priority (blocking above warnings; revenue log-scaled), plus the
    customer's risk: a kickoff within KICKOFF_RISK_DAYS (or past) adds KICKOFF_RISK_POINTS."""
    severity = severity if severity in SEVERITY_BASE else "BLOCKING"
    revenue = revenue_points(revenue_at_risk, policy or ExceptionPolicy()) if revenue_at_risk else 0
    risk = KICKOFF_RISK_POINTS if kickoff_in_days is not None and kickoff_in_days <= KICKOFF_RISK_DAYS else 0
    return min(SEVERITY_BASE[severity] + revenue + risk, SEVERITY_CAP[severity])


class Raised(_Model):
    """One problem as the intake reports it."""

    handoff_id: str
    opportunity_id: str | None = None
    title: str = ""
    exception: ExceptionEntry
    fix_round: int = 0
    approval_kind: str | None = None
    revenue_at_risk: Money | None = None
    kickoff_in_days: int | None = None


def raise_item(existing: WorkItem | None, raised: Raised, now: datetime, hours: dict[str, int]) -> WorkItem | None:
    """The item after this report, or None when nothing changes (the same report again).
    New: opened. Open or claimed: the newer round's message and priority (the assignee keeps it).
    Resolved or dismissed: reopened only for a newer fix round; the same round again is a duplicate."""
    entry = raised.exception
    group = owner_group(entry.code, approval_kind=raised.approval_kind)
    score = priority_score(entry.severity, raised.revenue_at_risk, kickoff_in_days=raised.kickoff_in_days)
    if entry.priority is not None:
        score = max(score, entry.priority)
    if existing is None:
        return WorkItem(
            item_id=item_id(raised.handoff_id, entry.code, entry.field), handoff_id=raised.handoff_id,
            opportunity_id=raised.opportunity_id, title=raised.title, code=entry.code, field=entry.field,
            step=entry.step, message=entry.message, severity=entry.severity, owner_group=group, priority=score,
            fix_round=raised.fix_round, created_at=now, due_at=due_at(group, now, hours), updated_at=now,
            history=(HistoryEntry(at=now, actor="intake", action="opened",
                                  detail=f"{entry.code} in fix round {raised.fix_round}"),),
        )
    if raised.fix_round <= existing.fix_round and (raised.fix_round < existing.fix_round or not existing.is_open
                                                   or existing.message == entry.message):
        return None
    update = {"message": entry.message, "priority": score, "fix_round": raised.fix_round, "updated_at": now,
              "severity": entry.severity, "step": entry.step}
    if existing.is_open:
        return existing.model_copy(update={**update, "history": (*existing.history, HistoryEntry(
            at=now, actor="intake", action="updated", detail=f"reported again in fix round {raised.fix_round}"))})
    return existing.model_copy(update={
        **update, "state": "open", "assignee": None, "resolution": None, "due_at": due_at(group, now, hours),
        "history": (*existing.history, HistoryEntry(at=now, actor="intake", action="reopened",
                                                    detail=f"reported again in fix round {raised.fix_round}")),
    })


def dead_letter_item(queue: str, message_id: str, body: str, error: str, now: datetime,
                     hours: dict[str, int], *, title: str = "") -> WorkItem:
    """A message no consumer could take: the platform's, with the whole body kept."""
    return WorkItem(
        item_id=dead_letter_item_id(queue, message_id), kind="dead-letter", code="DEAD_LETTER",
        step=queue, message=f"Dead-lettered in {queue}: {error or 'no error recorded'}"[:1000],
        title=title or f"Message {message_id} in {queue}", owner_group="platform",
        priority=SEVERITY_BASE["BLOCKING"], created_at=now, due_at=due_at("platform", now, hours), updated_at=now,
        payload=body, history=(HistoryEntry(at=now, actor="intake", action="opened", detail=f"message {message_id}"),),
    )


def _transition(item: WorkItem, actor: str, action: str, now: datetime, detail: str = "", **update: object) -> WorkItem:
    return item.model_copy(update={**update, "updated_at": now,
                                   "history": (*item.history, HistoryEntry(at=now, actor=actor, action=action,
                                                                           detail=detail))})


def claim(item: WorkItem, actor: str, now: datetime) -> WorkItem:
    if not item.is_open:
        raise WorkItemError(f"item {item.item_id} is {item.state}: only open items can be claimed")
    if item.state == "claimed" and item.assignee == actor:
        return item
    previous = f"taken over from {item.assignee}" if item.assignee else ""
    return _transition(item, actor, "claimed", now, previous, state="claimed", assignee=actor)


def comment(item: WorkItem, actor: str, text: str, now: datetime) -> WorkItem:
    text = text.strip()
    if not text:
        raise WorkItemError("comment: write something")
    return item.model_copy(update={"updated_at": now,
                                   "comments": (*item.comments, Comment(at=now, author=actor, text=text[:2000]))})


def resolve(item: WorkItem, actor: str, now: datetime, resolution: str) -> WorkItem:
    if not item.is_open:
        raise WorkItemError(f"item {item.item_id} is already {item.state}")
    return _transition(item, actor, "resolved", now, resolution, state="resolved", resolution=resolution,
                       assignee=item.assignee or actor)


def dismiss(item: WorkItem, actor: str, now: datetime, reason: str) -> WorkItem:
    reason = reason.strip()
    if not reason:
        raise WorkItemError("reason: say why the item is dismissed")
    if not item.is_open:
        raise WorkItemError(f"item {item.item_id} is already {item.state}")
    return _transition(item, actor, "dismissed", now, reason, state="dismissed", resolution=reason[:1000])


def superseded(item: WorkItem, fix_round: int, now: datetime) -> WorkItem | None:
    """An open item a newer round no longer reports is fixed: resolved by the system."""
    if not item.is_open or fix_round <= item.fix_round:
        return None
    return _transition(item, "intake", "resolved", now, f"no longer reported in fix round {fix_round}",
                       state="resolved", resolution=f"fixed: no longer reported in fix round {fix_round}")


def handoff_activated(item: WorkItem, now: datetime) -> WorkItem | None:
    """The handoff went live: whatever was still open about it is done."""
    if not item.is_open or item.kind != "exception":
        return None
    return _transition(item, "intake", "resolved", now, "the handoff activated", state="resolved",
                       resolution="fixed: the handoff activated")


def message_redriven(item: WorkItem, actor: str, now: datetime, to: str) -> WorkItem | None:
    """The dead-lettered message went back where it was going: its item is done. If it fails again,
    it dead-letters as a new message, with a new item."""
    if not item.is_open or item.kind != "dead-letter":
        return None
    return _transition(item, actor, "resolved", now, f"redriven to {to}", state="resolved",
                       resolution=f"fixed: the message was redriven to {to}"[:1000], assignee=item.assignee or actor)


def queue_emptied(item: WorkItem, now: datetime) -> WorkItem | None:
    """Its dead-letter queue holds no message any more (redriven by SQS's own move task, or from the
    AWS console): nothing of it is left to redrive."""
    if not item.is_open or item.kind != "dead-letter":
        return None
    return _transition(item, "intake", "resolved", now, f"{item.step} is empty", state="resolved",
                       resolution=f"fixed: the dead-letter queue {item.step} no longer holds the message")


def ranked(items: list[WorkItem], now: datetime) -> list[WorkItem]:
    """The queue's order: open before closed, overdue first, then priority, then the earliest due."""
    return sorted(items, key=lambda i: (not i.is_open, not i.overdue(now), -i.priority, i.due_at, i.item_id))


def age_text(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"



@dataclass(frozen=True)
class QueueGauges:
    """What the dashboards and the SLA alarm read: open items and the oldest one's age by group, and
    how far past its due time the most overdue open item is (0 when none is late)."""

    open_by_group: dict[str, int]
    oldest_age_seconds_by_group: dict[str, float]
    oldest_past_sla_seconds: float


def queue_gauges(items: list[WorkItem], now: datetime) -> QueueGauges:
    open_items = [i for i in items if i.is_open]
    counts: dict[str, int] = dict.fromkeys(OWNER_GROUPS, 0)
    oldest: dict[str, float] = dict.fromkeys(OWNER_GROUPS, 0.0)
    for item in open_items:
        counts[item.owner_group] += 1
        oldest[item.owner_group] = max(oldest[item.owner_group], (now - item.created_at).total_seconds())
    late = [(now - i.due_at).total_seconds() for i in open_items if i.overdue(now)]
    return QueueGauges(counts, oldest, max(late, default=0.0))
