"""Track pipeline: an "Opportunity Stage Changed" event opens soft (tentative) staffing requests at or
above the playbook's probability threshold, and releases them when the deal is lost. Invoked by an
EventBridge rule (asynchronously: Lambda retries twice, then the function's dead-letter queue)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from handoff.contracts import ContractError, StageChangedDetail, parse_stage_changed
from handoff.domain.pipeline import PipelineAction, PipelineDecision, decide
from handoff.domain.playbooks import PlaybookError, load_playbook
from handoff.handlers._provisioning import idempotency_key, once, ports
from handoff.handlers._runtime import logger, metrics, now, rejected, step_handler, store

STEP = "TrackPipeline"


class PipelineResult(BaseModel):
    opportunityId: str  # noqa: N815 - camelCase like every payload of this product
    eventId: str  # noqa: N815
    action: PipelineAction
    reason: str
    staffingRequests: list[dict[str, Any]] = Field(default_factory=list)  # noqa: N815
    released: int = 0


def threshold(detail: StageChangedDetail) -> int | None:
    """The playbook's soft-request threshold for this deal; None when its service line has none."""
    opportunity = detail.opportunity
    try:
        playbook = load_playbook(opportunity.service_line, region=opportunity.region, country=detail.account.country,
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


@step_handler(None)
def handler(event: dict) -> PipelineResult:
    try:
        parsed = parse_stage_changed(event)
    except ContractError as error:
        raise rejected(event, error) from None
    detail = parsed.detail
    newest = store().advance_pipeline(parsed.source, detail.opportunity.id, detail.event_id, detail.occurred_at, now())
    decision = decide(parsed, threshold(detail), newest=newest)
    # Once per emitted event (the same eventId twice is the same event); a later event for the
    # same stage runs again and finds every request already as wanted.
    scope = f"{parsed.source}:{detail.opportunity.id}:{detail.event_id}"
    outcome = once(scope, STEP, lambda: apply(decision, idempotency_key(scope, STEP)))
    result = PipelineResult(opportunityId=detail.opportunity.id, eventId=detail.event_id, action=decision.action,
                            reason=decision.reason, **outcome)
    logger.info("pipeline stage tracked", extra={"opportunity_id": result.opportunityId, "stage": detail.opportunity.stage,
                                                 "action": result.action, "reason": result.reason})
    metrics.add_metric(name=f"Pipeline{decision.action.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return result
