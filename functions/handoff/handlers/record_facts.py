"""RecordFacts: the handoff table's stream -> facts -> Firehose (S3, partitioned by the fact's
date, queried by Athena). A batch that Firehose does not take whole is failed and redelivered by
the stream; the fact ids make the copies harmless (the `facts` view keeps one). The live business
metrics (handoff/adapters/fact_metrics.py) go out only once the whole batch is delivered."""

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.adapters import aws, fact_metrics
from handoff.adapters.stream_facts import facts_from_record
from handoff.observability import logger, metrics, tracer
from handoff.settings import settings

BATCH = 500  # PutRecordBatch's limit


class FactsNotDelivered(Exception):
    pass


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    facts = [fact for record in event.get("Records", []) for fact in facts_from_record(record)]
    rows = [{"Data": (json.dumps(f.to_row(), separators=(",", ":")) + "\n").encode()} for f in facts]
    firehose, stream = aws.client("firehose"), settings().facts_delivery_stream
    for start in range(0, len(rows), BATCH):
        answer = firehose.put_record_batch(DeliveryStreamName=stream, Records=rows[start:start + BATCH])
        if answer.get("FailedPutCount"):
            raise FactsNotDelivered(f"Firehose refused {answer['FailedPutCount']} of {len(rows[start:start + BATCH])} "
                                    "facts; the stream will deliver the batch again")
    metrics.add_metric(name="FactsRecorded", unit=MetricUnit.Count, value=len(facts))
    fact_metrics.emit(facts)  # the business dashboard's live metrics, once Firehose took the facts
    return {"records": len(event.get("Records", [])), "facts": len(facts)}
