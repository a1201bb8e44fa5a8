"""The fix loop: a BLOCKED handoff waits for a corrected deal, then the same handoff continues.
Pure: what a resubmission publishes, or why it is refused; how each round is named on the timeline."""

import copy
from dataclasses import dataclass
from typing import Any

from handoff.contracts import ClosedWonEvent, HandoffStatus
from handoff.domain.errors import EventAlreadyReceived, HandoffNotBlocked, OtherOpportunity

DETAIL_TYPE = "Opportunity Closed Won"


@dataclass(frozen=True)
class HandoffState:
    """What the fix loop needs to know of a handoff (one read of its record)."""

    handoff_id: str
    opportunity_id: str
    source: str
    status: str
    rework: int
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class Correction:
    """A corrected event: validated, and as received (published as is, unknown CRM fields kept)."""

    event: ClosedWonEvent
    raw: dict[str, Any]


@dataclass(frozen=True)
class Resubmission:
    """The closed-won event to put on the bus; the normal rule and AcceptEvent continue the handoff."""

    handoff_id: str
    source: str
    detail_type: str
    detail: dict[str, Any]
    event_id: str
    fix_round: int
    corrected: bool


def fix_round_step(step: str, rework: int) -> str:
    """A step's timeline name in fix round `rework`. The first round keeps the plain name; later rounds
    get their own entry, so the timeline keeps every round while a retried step still overwrites its own."""
    return step if rework == 0 else f"{step} (fix round {rework})"


def resubmission_step(plan: "Resubmission") -> str:
    """The timeline entry of a resubmission through the operators' API: one per round and eventId (a
    double click is one entry; two different corrections racing are two)."""
    return f"{fix_round_step('Resubmitted', plan.fix_round)}: {plan.event_id}"


def resubmission_event_id(handoff_id: str, fix_round: int) -> str:
    """The eventId of a resubmission without a body: one per round, so a double click is a duplicate."""
    return f"resubmit-{handoff_id}-{fix_round}"


def plan_resubmission(state: HandoffState, stored_event: dict[str, Any],
                      correction: Correction | None = None) -> Resubmission:
    """The event that continues a BLOCKED handoff: the corrected event, or else the stored deal again
    under a new eventId (after a playbook or vendor-list fix nothing on the deal changes)."""
    if state.status != HandoffStatus.BLOCKED.value:
        hint = f" (a FAILED one is retried: POST /handoffs/{state.handoff_id}/retry)" \
            if state.status == HandoffStatus.FAILED.value else ""
        raise HandoffNotBlocked(
            f"handoff {state.handoff_id} is {state.status}; only a BLOCKED handoff can be resubmitted{hint}",
            status=state.status)
    fix_round = state.rework + 1
    if correction is None:
        detail = copy.deepcopy(stored_event["detail"])
        detail["eventId"] = resubmission_event_id(state.handoff_id, fix_round)
        return Resubmission(state.handoff_id, stored_event["source"], DETAIL_TYPE, detail, detail["eventId"],
                            fix_round, corrected=False)
    event = correction.event
    if event.detail.opportunity.id != state.opportunity_id:
        raise OtherOpportunity(
            f"the event is for opportunity {event.detail.opportunity.id!r}; handoff {state.handoff_id} is for "
            f"{state.opportunity_id!r}", status=state.status, field="detail.opportunity.id")
    if event.source != state.source:
        raise OtherOpportunity(f"the event comes from {event.source!r}; handoff {state.handoff_id} from "
                               f"{state.source!r}", status=state.status, field="source")
    if event.detail.event_id in state.event_ids:
        raise EventAlreadyReceived(
            f"eventId {event.detail.event_id!r} was already received by handoff {state.handoff_id}; a corrected "
            "event needs a new eventId", status=state.status, field="detail.eventId")
    return Resubmission(state.handoff_id, event.source, DETAIL_TYPE, copy.deepcopy(correction.raw["detail"]),
                        event.detail.event_id, fix_round, corrected=True)
