"""Approvals a fix round may not drop. Pure.

A BLOCKED handoff is continued by a corrected deal (a CRM event or POST /handoffs/{id}/resubmit).
If the correction removes what made an approval necessary (the non-standard clause, the
subcontractor, the restricted country), the new round would simply not ask for it, so a caller
could bypass legal, procurement or compliance by editing the deal. The rule: every approval kind a
round required stays required in later rounds until an approval of that kind has been given. The
approver sees why: it was required in round N for a reason the correction removed."""

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from handoff.contracts import ClosedWonEvent
from handoff.domain.approvals import KINDS, ApprovalKind, ApprovalRequirement, ApproverDirectory
from handoff.domain.policy import ApprovalDeadlines


class RequiredEarlier(BaseModel):
    """An approval kind a round required, and why (kept on the handoff, one entry per round and kind)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    kind: ApprovalKind
    reason: str
    fix_round: int = Field(ge=0)


def required_in_round(requirements: Iterable[ApprovalRequirement], fix_round: int,
                      earlier: Iterable[RequiredEarlier] = ()) -> list[RequiredEarlier]:
    """What to keep for this round: its requirements, each with the round that first required it."""
    first = {e.kind: e for e in sorted(earlier, key=lambda e: -e.fix_round)}
    return [first[r.kind] if r.reason.startswith(_CARRIED) and r.kind in first else
            RequiredEarlier(kind=r.kind, reason=r.reason, fix_round=fix_round) for r in requirements]


def outstanding(earlier: Iterable[RequiredEarlier], approved: set[str],
                required_now: Iterable[ApprovalRequirement]) -> list[RequiredEarlier]:
    """Kinds an earlier round required that were never approved and the deal no longer triggers,
    the first round that required each."""
    now = {r.kind for r in required_now}
    found: dict[str, RequiredEarlier] = {}
    for entry in sorted(earlier, key=lambda e: e.fix_round):
        if entry.kind not in approved and entry.kind not in now:
            found.setdefault(entry.kind, entry)
    return [found[k] for k in KINDS if k in found]


_CARRIED = "Required since"


def carry_over(required_now: list[ApprovalRequirement], earlier: Iterable[RequiredEarlier], approved: set[str],
               event: ClosedWonEvent, directory: ApproverDirectory,
               deadlines: ApprovalDeadlines) -> list[ApprovalRequirement]:
    """The approvals this round waits for: what the deal requires now, plus every kind an earlier round
    required that was not given (routed like any approval of that kind, with the earlier reason)."""
    carried = []
    opportunity = event.detail.opportunity
    for entry in outstanding(earlier, approved, required_now):
        route = directory.route(entry.kind, opportunity.region, opportunity.service_line)
        round_name = "the first round" if entry.fix_round == 0 else f"fix round {entry.fix_round}"
        carried.append(ApprovalRequirement(
            kind=entry.kind,
            reason=(f"{_CARRIED} {round_name}: {entry.reason} The deal was corrected since and no longer "
                    "shows this, but the approval was never given."),
            checklist=[f"Confirm the correction is genuine: {round_name} required this approval because: "
                       f"{entry.reason}",
                       "Check the signed contract and the CRM history, not only the corrected deal."],
            approver=route.approver, escalation_approver=route.escalation,
            respond_within_hours=deadlines.respond_within_hours, remind_before_hours=deadlines.remind_before_hours,
            escalation_within_hours=deadlines.escalation_within_hours,
        ))
    return sorted([*required_now, *carried], key=lambda r: KINDS.index(r.kind))
