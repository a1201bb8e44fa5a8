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
from handoff.clock import now
from handoff.domain.errors import IntegrationTransient
from handoff.domain.redrive import find
from handoff.domain.replay_window import ReplayWindowInvalid
from handoff.handlers import _recovery as recovery
from handoff.handlers._json_api import entry_point, internal_error
from handoff.handlers._json_api import json_response as _json
from handoff.logic.replay_events import start_replay
from handoff.observability import logger, metrics
from handoff.settings import settings

app = APIGatewayRestResolver()
BodyInvalid = recovery.RequestInvalid


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
    return recovery.dry_run(body["dryRun"] if "dryRun" in body else query or "")


@app.get("/dead-letters")
def list_dead_letters() -> Response:
    return _json(200, {"queues": recovery.listing()})


@app.post("/dead-letters/<queue>/redrive")
def redrive_dead_letters(queue: str) -> Response:
    body = _body()
    dry_run = _dry_run(body)
    queues = recovery.queues()
    found = find(queues, queue)
    if found is None:
        message = f"no dead-letter queue {queue!r}; one of {', '.join(q.name for q in queues)}"
        return _json(404, {"message": message, "problems": [{"field": "queue", "message": message}]})
    report = recovery.redrive_queue(found, dry_run=dry_run, actor=_caller() or "recovery-api")
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
    report = recovery.requeue_quarantine(dry_run=dry_run, key=body.get("key"), event=body.get("event"))
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
