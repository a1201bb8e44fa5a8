"""The exceptions queue's consumer: each message becomes work items, and a Handoff Activated event
(routed here from the bus) resolves what is still open about that handoff (Powertools batch processing;
a message that fails is reported alone, ReportBatchItemFailures, and the others are deleted).
Idempotent: items are keyed by handoff and problem, so a redelivered message changes nothing."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.clock import now
from handoff.handlers._work_queue import handoff_facts, items, sla_hours
from handoff.logic.work_queue import HandoffActivated, parse_message, take_activation, take_exceptions
from handoff.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def take(record: SQSRecord) -> None:
    message = parse_message(record.body)
    if isinstance(message, HandoffActivated):
        changed = take_activation(message, items(), now())
    else:
        changed = take_exceptions(message, handoff_facts(message.handoffId), items(), now(), sla_hours())
    logger.info("work queue intake", extra={"message_id": record.message_id,
                                            "changed": [f"{i.item_id}:{i.state}" for i in changed]})
    metrics.add_metric(name="WorkItemsChanged", unit=MetricUnit.Count, value=len(changed))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=take, processor=processor, context=context)
