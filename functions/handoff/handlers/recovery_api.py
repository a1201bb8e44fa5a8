"""The operators' recovery API behind API Gateway, IAM-authorized (SigV4), on the same RestApi and
stage as the handoff API. The work is in handoff.logic.

GET  /dead-letters                  every dead-letter queue: its source, how it is redriven, messages waiting
POST /dead-letters/{queue}/redrive  redrive one, resolving the work items of what it sent back
                                    ({"dryRun": true}: say what would move, change nothing)
POST /replays                       replay the bus archive's window {"start", "end"} (UTC ISO 8601)
GET  /replays/{replayName}          how that replay is going
POST /quarantine/requeue            re-ingest quarantined events that now meet the contract
                                    ({"dryRun", "key", "event"}: one key, with a corrected event)"""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from handoff.adapters import aws
from handoff.adapters.event_archive import EventArchive, ReplayNotFound
from handoff.adapters.from_settings import documents, event_bus
from handoff.adapters.redelivery import TargetRedelivery
from handoff.adapters.sqs_redrive import MoveTaskMover, ReceiveSendMover, SqsDeadLetters
from handoff.clock import now
from handoff.domain.errors import IntegrationTransient
from handoff.domain.redrive import DeadLetterQueue, find, parse_config
from handoff.domain.replay_window import ReplayWindowInvalid
from handoff.handlers._json_api import entry_point, internal_error
from handoff.handlers._json_api import json_response as _json
from handoff.handlers._work_queue import items as work_items
from handoff.logic.redrive_dead_letters import describe, redrive
from handoff.logic.replay_events import start_replay
from handoff.logic.requeue_quarantine import requeue
from handoff.observability import logger, metrics
from handoff.ports.redrive import QueueMover
from handoff.settings import settings

app = APIGatewayRestResolver()


class BodyInvalid(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _caller() -> str | None:
    identity = (app.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    return identity.get("userArn") or identity.get("caller")


def _body() -> dict[str, Any]:
    text = app.current_event.decoded_body
    if text is None or not text.strip():
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise BodyInvalid("the body is not JSON", "body") from None
    if not isinstance(body, dict):
        raise BodyInvalid("the body must be a JSON object", "body")
    return body


def _dry_run(body: dict[str, Any]) -> bool:
    query = (app.current_event.query_string_parameters or {}).get("dryRun")
    value = body.get("dryRun", query if query is not None else False)
    if isinstance(value, str):
        value = value.lower() in ("1", "true", "yes")
    if not isinstance(value, bool):
        raise BodyInvalid("dryRun must be true or false", "dryRun")
    return value


def _queues() -> list[DeadLetterQueue]:
    return parse_config(settings().redrive_queues)


def _mover(dead_letters: SqsDeadLetters) -> QueueMover:
    # SQS's own redrive on AWS; the embedded runtime's SQS (moto) has no message move tasks.
    if settings().sqs_message_move == "receive-send":
        return ReceiveSendMover(aws.client("sqs"), dead_letters)
    return MoveTaskMover(aws.client("sqs"))


@app.get("/dead-letters")
def list_dead_letters() -> Response:
    dead_letters = SqsDeadLetters(aws.client("sqs"))
    return _json(200, {"queues": [describe(q, dead_letters) for q in _queues()]})


@app.post("/dead-letters/<queue>/redrive")
def redrive_dead_letters(queue: str) -> Response:
    body = _body()
    dry_run = _dry_run(body)
    queues = _queues()
    found = find(queues, queue)
    if found is None:
        message = f"no dead-letter queue {queue!r}; one of {', '.join(q.name for q in queues)}"
        return _json(404, {"message": message, "problems": [{"field": "queue", "message": message}]})
    dead_letters = SqsDeadLetters(aws.client("sqs"))
    report = redrive(found, dry_run=dry_run, dead_letters=dead_letters, mover=_mover(dead_letters),
                     redelivery=TargetRedelivery(aws.client, event_bus()), work_items=work_items(),
                     actor=_caller() or "recovery-api", now=now())
    logger.info("dead letters redriven", extra={"queue": found.name, "dry_run": dry_run, "count": report.count,
                                                "redriven": len(report.redriven), "failed": len(report.failed),
                                                "caller": _caller()})
    if not dry_run:
        metrics.add_metric(name="DeadLettersRedriven", unit=MetricUnit.Count, value=len(report.redriven))
    return _json(200 if dry_run else 202, report.to_json_dict())


def _archive() -> EventArchive:
    config = settings()
    return EventArchive(aws.client("events"), config.archive_name, config.archive_arn, config.event_bus_arn)


@app.post("/replays")
def replay_window() -> Response:
    body = _body()
    started = start_replay(_archive(), body.get("start"), body.get("end"), now=now(),
                           prefix=settings().replay_name_prefix, caller=_caller())
    logger.info("replay started", extra={**started.to_json_dict(), "caller": _caller()})
    return _json(202, started.to_json_dict(), {"Location": f"/v1/replays/{started.name}"})


@app.get("/replays/<name>")
def replay_state(name: str) -> Response:
    try:
        return _json(200, _archive().replay(name))
    except ReplayNotFound:
        message = f"no replay {name!r}"
        return _json(404, {"message": message, "problems": [{"field": "replayName", "message": message}]})


@app.post("/quarantine/requeue")
def requeue_quarantine() -> Response:
    body = _body()
    dry_run = _dry_run(body)
    key, event = body.get("key"), body.get("event")
    if key is not None and not (isinstance(key, str) and key.startswith("quarantine/")):
        raise BodyInvalid("key must be a quarantine/ key", "key")
    if event is not None and (key is None or not isinstance(event, dict)):
        raise BodyInvalid("a corrected event is a JSON object and needs the key it replaces", "event")
    report = requeue(documents(), event_bus(), now(), dry_run=dry_run, key=key, correction=event)
    logger.info("quarantine requeued", extra={"dry_run": dry_run, "requeued": len(report.requeued),
                                              "still_invalid": len(report.still_invalid), "caller": _caller()})
    return _json(200 if dry_run else 202, report.to_json_dict())


@app.exception_handler(BodyInvalid)
def _invalid(exc: BodyInvalid) -> Response:
    return _json(422, {"message": str(exc), "problems": [{"field": exc.field, "message": str(exc)}]})


@app.exception_handler(ReplayWindowInvalid)
def _window(exc: ReplayWindowInvalid) -> Response:
    return _json(422, {"message": str(exc), "problems": [{"field": exc.field, "message": str(exc)}]})


@app.exception_handler(IntegrationTransient)
def _unavailable(exc: IntegrationTransient) -> Response:
    logger.warning("recovery request not completed", extra={"error": str(exc)})
    return _json(503, {"message": "A service did not take the request; what was done is reported by a dry run, retry."})


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    return internal_error("recovery API")


handler = entry_point(app)
