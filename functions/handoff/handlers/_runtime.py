"""What every handler shares: the Powertools step wrapper and parser, and the adapters built from
the environment at call time. Logger, Tracer and Metrics live in handoff.observability."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from handoff.adapters import aws
from handoff.adapters.documents import Documents
from handoff.adapters.dynamodb_errors import transient_as_named
from handoff.adapters.event_bus import EventBus
from handoff.adapters.exceptions_queue import ExceptionsQueue
from handoff.adapters.handoff_store import HandoffStore
from handoff.adapters.mailer import Mailer
from handoff.adapters.ses_feedback import MESSAGE_TAGS_HEADER, message_tags
from handoff.adapters.workflow import Workflow
from handoff.config import setting
from handoff.contracts import ContractError, ExceptionEntry
from handoff.domain.errors import EventInvalid
from handoff.handlers._invocation import invocation
from handoff.observability import logger, metrics, tracer

Model = TypeVar("Model", bound=BaseModel)


def step_handler(
    model: type[Model] | None,
) -> Callable[[Callable[[Any], Any]], Callable[[dict, LambdaContext], Any]]:
    """Wrap a step: Powertools context, tracing and metrics; input parsed into `model` (or passed
    raw when None); pydantic results returned as JSON-ready dicts; a transient DynamoDB error
    (throttled, transaction conflict) raised as `Store.Transient` for the workflow to retry."""

    def decorate(step: Callable[[Model], Any]) -> Callable[[dict, LambdaContext], Any]:
        @logger.inject_lambda_context(clear_state=True)
        @tracer.capture_lambda_handler(capture_response=False)
        @metrics.log_metrics
        @wraps(step)
        def handler(event: dict, context: LambdaContext) -> Any:
            with invocation(context), transient_as_named():
                result = step(event if model is None else parse(event=event, model=model))
            if isinstance(result, BaseModel):
                return result.model_dump(mode="json", by_alias=True)
            return result

        return handler

    return decorate


def now() -> datetime:
    return datetime.now(UTC)


def store() -> HandoffStore:
    return HandoffStore(aws.table(setting("HANDOFF_TABLE")))


def documents() -> Documents:
    return Documents(aws.client("s3"), setting("DOCUMENTS_BUCKET"))


def _quarantine_name(event: Any) -> str:
    detail = event.get("detail") if isinstance(event, dict) else None
    event_id = (detail or {}).get("eventId") if isinstance(detail, dict) else None
    name = str(event_id or (event.get("id") if isinstance(event, dict) else None) or uuid.uuid4())
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120]


def quarantine(raw_event: Any, error: ContractError) -> str:
    """Keep an event that fails the contract, with the fields at fault, in S3 quarantine (named by its
    eventId: a redelivery overwrites, never adds); returns where it is."""
    location = documents().quarantine(raw_event, error.problems, now(), _quarantine_name(raw_event))
    logger.warning("event rejected", extra={"problems": error.problems, "quarantine": location})
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
    return location


def notify_once(handoff_id: str, key: str, message: EmailMessage) -> str | None:
    """Email a notice once per handoff and key, so a retried step does not mail it twice; returns
    the SES message id, None when it was already sent. At least once: a crash between sending and
    recording sends it again on the retry, which beats never sending it."""
    records = store()
    if MESSAGE_TAGS_HEADER not in message:
        message[MESSAGE_TAGS_HEADER] = message_tags(handoff_id, key)  # bounces name the handoff and notice
    if records.notice_sent(handoff_id, key):
        logger.info("notice already sent", extra={"handoff_id": handoff_id, "notice": key})
        return None
    message_id = Mailer(aws.client("ses"), setting("MAIL_FROM")).send(message)
    records.mark_notice_sent(handoff_id, key, message_id, now())
    return message_id


def queue_exceptions_once(handoff_id: str, key: str, status: str, exceptions: list[ExceptionEntry], *,
                          priority: int = 0, owner: str | None = None,
                          resolution: dict[str, str] | None = None, fix_round: int | None = None) -> str | None:
    """Put a handoff's exceptions on the exceptions queue once per handoff and key (a retried step
    finds them queued); returns the SQS message id, None when already queued. At least once, as
    notify_once."""
    records = store()
    notice = f"exceptions#{key}"
    if records.notice_sent(handoff_id, notice):
        logger.info("exceptions already queued", extra={"handoff_id": handoff_id, "key": key})
        return None
    message_id = exceptions_queue().publish(handoff_id, status, exceptions, priority=priority, owner=owner,
                                            resolution=resolution, fix_round=fix_round)
    records.mark_notice_sent(handoff_id, notice, message_id, now())
    return message_id


def event_bus() -> EventBus:
    return EventBus(aws.client("events"), setting("EVENT_BUS_NAME"))


def workflow() -> Workflow:
    return Workflow(aws.client("stepfunctions"), setting("STATE_MACHINE_ARN"))


def exceptions_queue() -> ExceptionsQueue:
    return ExceptionsQueue(aws.client("sqs"), setting("EXCEPTIONS_QUEUE_URL"))


def rejected(event: Any, error: ContractError) -> EventInvalid:
    """Quarantine an event that fails its contract and return the named error that reports it."""
    return EventInvalid(f"{error} (kept in {quarantine(event, error)})")


class HandoffRef(BaseModel):
    """What the state machine passes to a step: the id; the deal and records are in the table."""

    handoffId: str


class StepResult(BaseModel):
    handoffId: str
