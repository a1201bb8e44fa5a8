"""What an "Opportunity Stage Changed" event means for staffing demand. Pure, no I/O.

  lost deal (stage "Closed Lost" and its spellings)     -> RELEASE the soft requests
  won deal (stage "Closed Won" ...)                     -> NONE: the closed-won handoff firms them
  open deal at or above the playbook's threshold        -> OPEN_SOFT, one request per staffing need
  open deal below the threshold, or nothing to staff    -> NONE

A deal that drops below the threshold keeps its soft requests: probabilities are re-estimated often,
and releasing on every dip would make resource managers lose and re-find the same people. Only a
lost deal (or the firm step at closed-won, for needs the final deal dropped) releases them.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from handoff.contracts import StaffingRequest, StageChangedEvent
from handoff.domain.staffing import SOFT, requests_for

# CRMs spell their closed stages differently: "Closed Lost" (Salesforce), "closedlost" (HubSpot),
# "closed_lost", "Lost". Compared with case, spaces and punctuation removed.
LOST_STAGES = frozenset({"closedlost", "lost"})
WON_STAGES = frozenset({"closedwon", "won"})


class PipelineAction(StrEnum):
    OPEN_SOFT = "OPEN_SOFT"
    RELEASE = "RELEASE"
    NONE = "NONE"


@dataclass(frozen=True)
class PipelineDecision:
    action: PipelineAction
    opportunity_id: str
    reason: str
    requests: tuple[StaffingRequest, ...] = field(default_factory=tuple)


def stage_key(stage: str) -> str:
    return re.sub(r"[^a-z]", "", stage.casefold())


def decide(event: StageChangedEvent, threshold: int | None, *, newest: bool = True) -> PipelineDecision:
    """`threshold` is the playbook's soft_request_min_probability, None when the service line has
    no playbook (then only a lost deal does anything: releasing needs no policy). `newest` is False
    when a later stage change of the deal was already seen: a delayed "Negotiation 60 %" arriving
    after "Closed Lost" must not reopen what the loss released."""
    opportunity = event.detail.opportunity
    stage, probability = opportunity.stage, opportunity.probability

    def decision(action: PipelineAction, reason: str, requests: tuple[StaffingRequest, ...] = ()) -> PipelineDecision:
        return PipelineDecision(action, opportunity.id, reason, requests)

    key = stage_key(stage)
    if not newest:
        return decision(PipelineAction.NONE, f"stage {stage!r} was overtaken by a later stage change; ignored")
    if key in LOST_STAGES:
        return decision(PipelineAction.RELEASE, f"stage {stage!r}: the deal is lost, soft requests are released")
    if key in WON_STAGES:
        return decision(PipelineAction.NONE, f"stage {stage!r}: the closed-won handoff firms the requests")
    if threshold is None:
        return decision(PipelineAction.NONE, f"no playbook for service line {opportunity.service_line!r}")
    if probability < threshold:
        return decision(PipelineAction.NONE, f"probability {probability}% is below the {threshold}% threshold")
    if not event.detail.staffing:
        return decision(PipelineAction.NONE, "no staffing needs known yet")
    requests = tuple(requests_for(opportunity.id, event.detail.staffing, status=SOFT))
    return decision(
        PipelineAction.OPEN_SOFT,
        f"probability {probability}% is at or above the {threshold}% threshold: {len(requests)} soft requests",
        requests,
    )
