"""The operators' recovery API behind API Gateway, IAM-authorized (SigV4), on the same RestApi and
stage as the handoff API. The work is in handoff.logic.

POST /quarantine/requeue   re-ingest quarantined events that now meet the contract
                           ({"dryRun", "key", "event"}: one key, with a corrected event)"""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from handoff.adapters.from_settings import documents, event_bus
from handoff.clock import now
from handoff.domain.errors import IntegrationTransient
from handoff.handlers._json_api import entry_point, internal_error
from handoff.handlers._json_api import json_response as _json
from handoff.logic.requeue_quarantine import requeue
from handoff.observability import logger

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


@app.exception_handler(IntegrationTransient)
def _unavailable(exc: IntegrationTransient) -> Response:
    logger.warning("recovery request not completed", extra={"error": str(exc)})
    return _json(503, {"message": "A service did not take the request; what was done is reported by a dry run, retry."})


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    return internal_error("recovery API")


handler = entry_point(app)
