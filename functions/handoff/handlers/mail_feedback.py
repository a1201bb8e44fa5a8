"""SES bounces and complaints, from the configuration set's SNS topic: a bounced approval or fix
request is recorded on its handoff (timeline and a named exception) and sent to the exceptions
queue, instead of an approval waiting 48 hours in silence. Subscribed asynchronously: Lambda
retries twice, then the function's dead-letter queue."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SnsModel

from handoff.adapters.from_settings import exceptions_queue, store
from handoff.adapters.handoff_store import is_handoff_id
from handoff.adapters.ses_feedback import HANDOFF_TAG, NOTICE_TAG, SesFeedback, parse_feedback
from handoff.clock import now
from handoff.contracts import ContractError
from handoff.domain.errors import HandoffNotFound
from handoff.domain.mail_feedback import assess
from handoff.handlers._step import step_handler
from handoff.observability import logger, metrics


def record(feedback: SesFeedback) -> str:
    """Apply one notification; returns what was done (for the log and the tests)."""
    handoff_id, notice = feedback.mail.tag(HANDOFF_TAG), feedback.mail.tag(NOTICE_TAG)
    if not handoff_id or not notice or not is_handoff_id(handoff_id):
        return "not a handoff email"
    recipients = [(r.emailAddress, r.diagnosticCode) for r in feedback.recipients]
    bounce = feedback.bounce
    outcome = assess(notice, feedback.event_type, recipients, bounce_type=bounce.bounceType if bounce else "",
                     bounce_sub_type=bounce.bounceSubType if bounce else "")
    if outcome is None:
        return f"no handoff notice {notice!r}"
    records = store()
    marker = f"feedback#{feedback.feedback_id}"
    try:
        if records.notice_sent(handoff_id, marker):  # SNS delivers at least once
            return "already recorded"
        status = records.status(handoff_id)
    except HandoffNotFound:
        return "unknown handoff"
    at = bounce.timestamp if bounce else now()
    records.record_step(handoff_id, outcome.timeline_step, outcome.timeline_status, at, detail=outcome.detail[:500])
    if outcome.exception is not None:
        records.set_exceptions(handoff_id, f"{outcome.timeline_step}", [outcome.exception])
        exceptions_queue().publish(handoff_id, status, [outcome.exception])
        metrics.add_metric(name="EmailsBounced", unit=MetricUnit.Count, value=1)
    records.mark_notice_sent(handoff_id, marker, feedback.mail.messageId, now())
    return outcome.timeline_status


def handle(event: dict[str, Any]) -> dict[str, list[str]]:
    done = []
    for item in parse(event=event, model=SnsModel).Records:
        try:
            feedback = parse_feedback(item.Sns.Message)
        except ContractError as error:
            # Retrying cannot fix a message that is not SES's: log it, do not fail the batch.
            logger.error("not an SES notification", extra={"problems": error.problems,
                                                            "sns_message_id": item.Sns.MessageId})
            done.append("unreadable")
            continue
        if feedback is None:
            done.append("ignored")
            continue
        result = record(feedback)
        logger.info("mail feedback", extra={"event_type": feedback.event_type, "result": result,
                                            "ses_message_id": feedback.mail.messageId})
        done.append(result)
    return {"results": done}


handler = step_handler(None)(handle)
