"""What the recovery API and the console's recovery page share: the stack's dead-letter queues
(REDRIVE_QUEUES) and the adapters a redrive or a requeue of the quarantine needs, built in one place
from the environment, and the checks on what an operator asks for (the same answer from both)."""

import json
from typing import Any

from handoff.adapters import aws
from handoff.adapters.from_settings import documents, event_bus
from handoff.adapters.redelivery import TargetRedelivery
from handoff.adapters.sqs_redrive import MoveTaskMover, ReceiveSendMover, SqsDeadLetters
from handoff.clock import now
from handoff.domain.redrive import DeadLetterQueue, parse_config
from handoff.handlers._work_queue import items
from handoff.logic.redrive_dead_letters import QueueReport, describe, redrive
from handoff.logic.requeue_quarantine import RequeueReport, requeue
from handoff.ports.redrive import QueueMover
from handoff.settings import settings


class RequestInvalid(ValueError):
    """What the operator asked for cannot be done as asked; `field` names what is wrong."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


_YES, _NO = ("true", "1", "yes", "on"), ("", "false", "0", "no", "off")


def dry_run(value: object) -> bool:
    """dryRun as the API's JSON body or query string or the console's form gives it ("" when not
    given: no). Anything not plainly yes or no, null included, is refused: a misspelt dry run must
    not move messages."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES + _NO:
        return value.strip().lower() in _YES
    raise RequestInvalid(f"dryRun must be true or false, not {json.dumps(value)[:40]}", "dryRun")


def queues() -> list[DeadLetterQueue]:
    return parse_config(settings().redrive_queues)


def dead_letters() -> SqsDeadLetters:
    return SqsDeadLetters(aws.client("sqs"))


def mover(letters: SqsDeadLetters) -> QueueMover:
    # SQS's own redrive on AWS; the embedded runtime's SQS (moto) has no message move tasks.
    if settings().sqs_message_move == "receive-send":
        return ReceiveSendMover(aws.client("sqs"), letters)
    return MoveTaskMover(aws.client("sqs"))


def listing() -> list[dict[str, Any]]:
    """Every dead-letter queue as GET /dead-letters lists it (messages waiting included)."""
    letters = dead_letters()
    return [describe(q, letters) for q in queues()]


def redrive_queue(queue: DeadLetterQueue, *, dry_run: bool, actor: str) -> QueueReport:
    """Redrive (or a dry run); the work queue's items of the messages sent back are resolved as `actor`."""
    letters = dead_letters()
    return redrive(queue, dry_run=dry_run, dead_letters=letters, mover=mover(letters),
                   redelivery=TargetRedelivery(aws.client, event_bus()), work_items=items(), actor=actor, now=now())


def check_requeue(key: Any, event: Any) -> None:
    """One key must be a quarantine/ key; a corrected event is a JSON object and needs its key."""
    if key is not None and not (isinstance(key, str) and key.startswith("quarantine/")):
        raise RequestInvalid("key must be a quarantine/ key", "key")
    if event is not None and (key is None or not isinstance(event, dict)):
        raise RequestInvalid("a corrected event is a JSON object and needs the key it replaces", "event")


def requeue_quarantine(*, dry_run: bool, key: str | None = None, event: dict | None = None) -> RequeueReport:
    check_requeue(key, event)
    return requeue(documents(), event_bus(), now(), dry_run=dry_run, key=key, correction=event)


def quarantined(limit: int) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` events kept in the quarantine (oldest day first), with when, why and the
    event as kept, and how many are kept in all (a page reads no more than it shows)."""
    kept = documents()
    keys = kept.quarantine_keys()
    return kept.quarantined(keys[:limit]), len(keys)
