"""Track pipeline: an "Opportunity Stage Changed" event opens soft (tentative) staffing requests at or
above the playbook's probability threshold, and releases them when the deal is lost (the use case
handoff.logic.track_pipeline). Invoked by an EventBridge rule (asynchronously: Lambda retries twice,
then the function's dead-letter queue)."""

from aws_lambda_powertools.metrics import MetricUnit

from handoff.contracts import ContractError, parse_stage_changed
from handoff.handlers._step import step_handler
from handoff.logic.quarantine import quarantine
from handoff.logic.track_pipeline import PipelineResult, track
from handoff.observability import logger, metrics


@step_handler(None)
def handler(event: dict) -> PipelineResult | dict:
    try:
        parsed = parse_stage_changed(event)
    except ContractError as error:
        # Kept in quarantine and answered, not raised: Lambda would retry an asynchronous event that
        # can never pass (three quarantines, three rejections counted) and then dead-letter it.
        return {"rejected": True, "quarantine": quarantine(event, error), "problems": error.problems}
    result = track(parsed, event)
    logger.info("pipeline stage tracked", extra={"opportunity_id": result.opportunityId,
                                                 "stage": parsed.detail.opportunity.stage,
                                                 "action": result.action, "reason": result.reason})
    metrics.add_metric(name=f"Pipeline{result.action.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return result
