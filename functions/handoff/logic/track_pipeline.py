"""Soft staffing before close: record the stage change (ordered by occurredAt), decide with the
playbook's threshold (handoff.domain.pipeline, pure), apply the decision once per event to the
staffing port, and catch up with a newer stage change that ran meanwhile."""

from typing import Any

from pydantic import BaseModel, Field

from handoff.adapters.configuration import playbook as configured_playbook
from handoff.adapters.from_settings import store
from handoff.adapters.idempotency import idempotency_key, once
from handoff.adapters.system_ports import ports
from handoff.clock import now
from handoff.contracts import StageChangedDetail, StageChangedEvent, parse_stage_changed
from handoff.domain.pipeline import PipelineAction, PipelineDecision, decide
from handoff.domain.playbooks import PlaybookError
from handoff.observability import logger

STEP = "TrackPipeline"


class PipelineResult(BaseModel):
    opportunityId: str
    eventId: str
    action: PipelineAction
    reason: str
    staffingRequests: list[dict[str, Any]] = Field(default_factory=list)
    released: int = 0


def threshold(detail: StageChangedDetail) -> int | None:
    """The playbook's soft-request threshold for this deal; None when its service line has none."""
    opportunity = detail.opportunity
    try:
        playbook = configured_playbook(opportunity.service_line, region=opportunity.region,
                                       country=detail.account.country,
                                       contract_type=detail.contract.type if detail.contract else "")
    except PlaybookError as error:
        logger.warning("no playbook for the deal", extra={"opportunity_id": opportunity.id, "error": str(error)})
        return None
    return playbook.staffing.soft_request_min_probability


def apply(decision: PipelineDecision, key: str) -> dict[str, Any]:
    staffing = ports().staffing
    match decision.action:
        case PipelineAction.OPEN_SOFT:
            opened = staffing.open_soft(decision.opportunity_id, list(decision.requests), idempotency_key=key)
            return {"staffingRequests": [r.to_json_dict() for r in opened]}
        case PipelineAction.RELEASE:
            return {"released": staffing.release(decision.opportunity_id, idempotency_key=key)}
        case _:
            return {}


def _scope(event: StageChangedEvent) -> str:
    return f"{event.source}:{event.detail.opportunity.id}:{event.detail.event_id}"


CATCH_UP_ROUNDS = 3


def catch_up(applied: StageChangedEvent) -> None:
    """Stage changes of one deal can run at once (EventBridge delivers in parallel, Lambda retries
    late), so an older event's writes may land after a newer one's: "Negotiation 60 %" opening soft
    requests after "Closed Lost" released them. Whoever has written re-applies the newest event's
    decision (the staffing operations are reconciliations, idempotent), until the newest is stable."""
    seen = applied
    for _ in range(CATCH_UP_ROUNDS):
        raw = store().latest_pipeline_event(applied.source, applied.detail.opportunity.id)
        latest = parse_stage_changed(raw) if raw else None
        if latest is None or latest.detail.event_id == seen.detail.event_id:
            return
        decision = decide(latest, threshold(latest.detail))
        logger.info("stage change overtaken while applied: re-applying the newest",
                    extra={"opportunity_id": applied.detail.opportunity.id, "applied": applied.detail.event_id,
                           "newest": latest.detail.event_id, "action": decision.action})
        # Its own key: the newest event's original call must not be replayed, it must run again.
        apply(decision, idempotency_key(f"{_scope(latest)}:after:{seen.detail.event_id}", STEP))
        seen = latest
    logger.warning("stage changes still moving after catch-up", extra={"opportunity_id": applied.detail.opportunity.id})


def track(parsed: StageChangedEvent, raw_event: dict[str, Any]) -> PipelineResult:
    detail = parsed.detail
    newest = store().advance_pipeline(parsed.source, detail.opportunity.id, detail.occurred_at, raw_event, now())
    decision = decide(parsed, threshold(detail), newest=newest)
    # Once per emitted event (the same eventId twice is the same event); a later event for the
    # same stage runs again and finds every request already as wanted.
    scope = _scope(parsed)
    outcome = once(scope, STEP, lambda: apply(decision, idempotency_key(scope, STEP)))
    if decision.action != PipelineAction.NONE:
        catch_up(parsed)
    return PipelineResult(opportunityId=detail.opportunity.id, eventId=detail.event_id, action=decision.action,
                          reason=decision.reason, **outcome)
