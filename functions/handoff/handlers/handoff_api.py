"""The operators' handoff API behind API Gateway, IAM-authorized (SigV4): for CRM integrations and
operators, never for email links.

GET  /handoffs                       search: filters, sort, cursor pages (handoff.logic.search_handoffs)
GET  /handoffs/{handoffId}           the handoff record (docs/contract.md section 3)
POST /handoffs/{handoffId}/resubmit  continue a BLOCKED handoff: with a corrected event as the body,
                                     or without a body to re-validate the stored deal (after a playbook
                                     or vendor-list fix)
POST /handoffs/{handoffId}/retry     resume a FAILED handoff at the step that failed, once the cause
                                     is fixed (logic.retry_handoff; a new execution, started here)

A resubmission is put on the bus as a closed-won event, so the normal rule, state machine and
AcceptEvent continue the handoff: one path for CRM corrections and API resubmissions, with the
rule's retries and dead letters, and the store's conditional write as the only arbiter of races."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from handoff.adapters.dynamodb_errors import transient
from handoff.adapters.event_bus import MAX_ENTRY_BYTES
from handoff.adapters.from_settings import event_bus, handoff_index, store, workflow
from handoff.adapters.handoff_store import is_handoff_id
from handoff.clock import now
from handoff.contracts import ContractError, parse_event
from handoff.contracts.operators_api import ResubmitAccepted, RetryAccepted
from handoff.domain.errors import (
    EventAlreadyReceived,
    EventTooLarge,
    HandoffNotBlocked,
    HandoffNotFailed,
    HandoffNotFound,
    IntegrationTransient,
    OtherOpportunity,
    ResubmissionRefused,
)
from handoff.domain.fix_loop import Correction, plan_resubmission, resubmission_step
from handoff.handlers._json_api import entry_point, internal_error
from handoff.handlers._json_api import json_response as _json
from handoff.logic.quarantine import quarantine
from handoff.logic.retry_handoff import retry_handoff
from handoff.logic.search_handoffs import SearchRefused, parse_search_parameters, search_handoffs
from handoff.observability import logger, metrics

app = APIGatewayRestResolver()

_REFUSED = {HandoffNotBlocked: 409, HandoffNotFailed: 409, EventAlreadyReceived: 409, OtherOpportunity: 422}


def _known(handoff_id: str) -> str:
    # Ids are derived (ho- and 16 hex digits): anything else is unknown without a table read.
    if not is_handoff_id(handoff_id):
        raise HandoffNotFound(f"no handoff {handoff_id!r}")
    return handoff_id


def _caller() -> str | None:
    identity = (app.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    return identity.get("userArn") or identity.get("caller")


_NO_BODY = object()


class UnreadableBody(ValueError):
    pass


def _body() -> Any:
    """_NO_BODY without a body; the JSON value (a JSON null included: parse_event refuses it rather
    than it quietly meaning "no correction"); or the text when it is not JSON (parse_event says why)."""
    try:
        text = app.current_event.decoded_body
    except (ValueError, UnicodeError) as error:  # isBase64Encoded with bad base64, or bytes that are not UTF-8
        raise UnreadableBody("the body is not valid base64-encoded UTF-8 text") from error
    if text is None or not text.strip():
        return _NO_BODY
    size = len(text.encode())
    if size > MAX_ENTRY_BYTES:  # refused before parsing or quarantining: nothing this big is kept
        raise EventTooLarge(f"the body is {size} bytes", size=size, limit=MAX_ENTRY_BYTES)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# --- routes (each is one line of handoff.contracts.operators_api.OPERATIONS, the OpenAPI document) ---
@app.get("/handoffs")
def search() -> Response:
    query = app.current_event.multi_value_query_string_parameters or app.current_event.query_string_parameters
    page = search_handoffs(parse_search_parameters(query), handoff_index(), now())
    return _json(200, page.to_json_dict())


@app.get("/handoffs/<handoff_id>")
def show(handoff_id: str) -> Response:
    return _json(200, store().record(_known(handoff_id)).to_json_dict())


@app.post("/handoffs/<handoff_id>/resubmit")
def resubmit(handoff_id: str) -> Response:
    records = store()
    state = records.state(_known(handoff_id))
    raw = _body()
    try:
        correction = None if raw is _NO_BODY else Correction(parse_event(raw), raw)
    except ContractError as error:
        location = quarantine(raw, error)
        return _json(422, {"message": f"the event does not meet the contract (kept in {location})",
                           "handoffId": handoff_id, "status": state.status, "problems": error.problems})
    plan = plan_resubmission(state, records.raw_deal(handoff_id), correction)
    caller = _caller() or "an unidentified caller (no IAM identity in the request)"
    # On the timeline before the event goes out: an attempt that fails (503) stays audited too.
    records.record_step_once(handoff_id, resubmission_step(plan), "REQUESTED", now(),
                             detail=f"by {caller}; eventId {plan.event_id}; "
                                    f"{'corrected event' if plan.corrected else 'stored deal re-validated'}")
    event_bus().publish(plan.source, plan.detail_type, plan.detail)
    logger.info("handoff resubmitted", extra={"handoff_id": handoff_id, "event_id": plan.event_id,
                                              "fix_round": plan.fix_round, "corrected": plan.corrected,
                                              "caller": caller})
    metrics.add_metric(name="HandoffResubmitted", unit=MetricUnit.Count, value=1)
    stage = app.current_event.request_context.stage
    return _json(202, ResubmitAccepted(
        handoff_id=handoff_id, opportunity_id=state.opportunity_id, event_id=plan.event_id,
        corrected=plan.corrected, status=state.status, rework=state.rework, fix_round=plan.fix_round,
        message="Accepted: the deal is re-validated on the same handoff; GET the handoff to follow it.",
    ).to_json_dict(), headers={"Location": f"/{stage}/handoffs/{handoff_id}"})


@app.post("/handoffs/<handoff_id>/retry")
def retry(handoff_id: str) -> Response:
    caller = _caller()
    started = retry_handoff(_known(handoff_id), caller, store=store(), workflow=workflow(), now=now())
    logger.info("handoff retried", extra={"handoff_id": handoff_id, "retry": started.retry,
                                          "resume_at": started.resume_at, "caller": caller})
    metrics.add_metric(name="HandoffRetried", unit=MetricUnit.Count, value=1)
    stage = app.current_event.request_context.stage
    return _json(202, RetryAccepted(
        handoff_id=handoff_id, retry=started.retry, resume_at=started.resume_at, status=started.status,
        execution_arn=started.execution_arn, execution_name=started.execution_name,
        message=f"Accepted: the handoff resumes at {started.resume_at!r}; GET the handoff to follow it.",
    ).to_json_dict(), headers={"Location": f"/{stage}/handoffs/{handoff_id}"})


# --- errors ------------------------------------------------------------------------------------------
@app.exception_handler(HandoffNotFound)
def _not_found(exc: HandoffNotFound) -> Response:
    return _json(404, {"message": str(exc)})


@app.exception_handler(SearchRefused)
def _bad_search(exc: SearchRefused) -> Response:
    return _json(400, {"message": f"The search parameters are not valid: {exc}", "problems": exc.problems})


@app.exception_handler(ResubmissionRefused)
def _refused(exc: ResubmissionRefused) -> Response:
    body: dict[str, Any] = {"message": str(exc), "status": exc.status}
    if exc.field:
        body["problems"] = [{"field": exc.field, "message": str(exc)}]
    return _json(_REFUSED.get(type(exc), 409), body)


@app.exception_handler(UnreadableBody)
def _unreadable(exc: UnreadableBody) -> Response:
    return _json(400, {"message": str(exc), "problems": [{"field": "body", "message": str(exc)}]})


@app.exception_handler(EventTooLarge)
def _too_large(exc: EventTooLarge) -> Response:
    return _json(413, {"message": f"The corrected event is {exc.size} bytes; the event bus takes at most {exc.limit}. "
                                  "Shorten the free text (scope, clauses) or keep large documents out of the event.",
                       "size": exc.size, "limit": exc.limit})


@app.exception_handler(IntegrationTransient)
def _unavailable(exc: IntegrationTransient) -> Response:
    logger.warning("resubmission not published", extra={"error": str(exc)})
    return _json(503, {"message": "The event bus or the workflow did not take the request; nothing changed, retry."},
                 headers={"Retry-After": "5"})


@app.exception_handler(ClientError)
def _aws_error(exc: ClientError) -> Response:
    if transient(exc):  # DynamoDB throttled the read: nothing changed, the caller may retry
        logger.warning("DynamoDB busy", extra={"error": exc.response.get("Error", {}).get("Code")})
        return _json(503, {"message": "The handoff table is busy; nothing changed, retry."}, headers={"Retry-After": "2"})
    return _unexpected(exc)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    return internal_error("handoff API")


handler = entry_point(app)
